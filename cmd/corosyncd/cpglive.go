package main

import (
	"github.com/corosync-go/corosync/l4_services/cpgsvc"
	"github.com/corosync-go/corosync/l4_services/rtkeys"
)

// cpgService is the cpg engine's entry in loadedServices: runtime.services.cpg.* with
// corosync's seven exec message ids (procjoin … partial mcast).
var cpgService = rtkeys.Service{ID: cpgsvc.ServiceID, Short: cpgsvc.IPCName, MsgIDs: 7}

// newCPG creates the closed process group engine (service 2).
func (d *daemon) newCPG() *cpgsvc.Service {
	return cpgsvc.New(cpgsvc.Config{NodeID: d.conf.nodeID, Log: d.log})
}
