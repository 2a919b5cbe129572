package main

import (
	"context"
	"fmt"
	"time"

	"github.com/corosync-go/corosync/l4_services/executive"
	"github.com/corosync-go/corosync/l4_services/monsvc"
	"github.com/corosync-go/corosync/l4_services/reskit"
	"github.com/corosync-go/corosync/l4_services/rtkeys"
	"github.com/corosync-go/corosync/l4_services/wdsvc"
)

// resourceServices are corosync_mon and corosync_wd as cmap lists them (no exec messages).
var resourceServices = []rtkeys.Service{{ID: monsvc.ServiceID, Short: "mon"}, {ID: wdsvc.ServiceID, Short: "wd"}}

// resEngines are the mon and wd engines (resources.*) and the loop they share, as they
// share corosync's main loop.
type resEngines struct {
	loop *reskit.Loop
	stop context.CancelFunc
	done chan struct{}
	mon  *monsvc.Service
	wd   *wdsvc.Service
}

// newResources creates the engines and starts their loop. The loop outlives ctx until
// close, so that wd can still magically close its device after a cancelled run.
func (d *daemon) newResources(ctx context.Context) *resEngines {
	ctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	r := &resEngines{loop: reskit.NewLoop(nil), stop: stop, done: make(chan struct{})}
	go func() { r.loop.Run(ctx); close(r.done) }()
	r.mon = monsvc.New(monsvc.Config{Map: d.m, Loop: r.loop, Log: d.log})
	// The device is opened only when resources.watchdog_device names one, as in 3.1.7.
	r.wd = wdsvc.New(wdsvc.Config{Map: d.m, Loop: r.loop, Devices: wdsvc.LinuxDevices{}, Host: wdsvc.SystemHost{}, Log: d.log})
	return r
}

// engines are mon and wd for the executive.
func (r *resEngines) engines() []executive.Engine { return []executive.Engine{r.mon, r.wd} }

// initResources runs mon's then wd's initialisation (corosync's load order) and publishes
// their internal_configuration and runtime.services keys.
func (d *daemon) initResources(ctx context.Context) error {
	if err := d.res.mon.Init(ctx); err != nil {
		return fmt.Errorf("cannot start %s: %w", monsvc.Name, err)
	}
	d.sub("SERV").Log(ctx, levelNotice, fmt.Sprintf("Service engine loaded: %s [%d]", monsvc.Name, monsvc.ServiceID))
	if err := d.res.wd.Init(ctx); err != nil {
		return fmt.Errorf("cannot start %s: %w", wdsvc.Name, err)
	}
	d.sub("SERV").Log(ctx, levelNotice, fmt.Sprintf("Service engine loaded: %s [%d]", wdsvc.Name, wdsvc.ServiceID))
	rtkeys.PublishStatic(d.m, resourceServices)
	return nil
}

// close closes wd's device with the magic 'V' and stops the loop.
func (r *resEngines) close() {
	if r == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r.wd.Close(ctx)
	r.stop()
	<-r.done
}
