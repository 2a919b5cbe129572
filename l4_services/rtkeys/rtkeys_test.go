package rtkeys

import (
	"io"
	"log/slog"
	"testing"

	evs "github.com/corosync-go/corosync/l3_evs"
	"github.com/corosync-go/corosync/l4_services/executive"
	"github.com/corosync-go/corosync/l4_services/icmap"
)

func get(t *testing.T, m *icmap.Map, key string) string {
	t.Helper()
	v, err := m.Get(key)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return v.String()
}

func TestMembersLikeCorosync(t *testing.T) {
	m := icmap.New()
	addrs := func(id uint32) []string {
		if id == 2 {
			return []string{"10.0.0.2", "", "10.1.0.2"}
		}
		return []string{"10.0.0.1"}
	}
	w := NewMembers(m, slog.New(slog.NewTextHandler(io.Discard, nil)), addrs, 7)
	w.ConfChg(&evs.Configuration{Members: []evs.NodeID{1, 2}})
	if got := get(t, m, "runtime.members.2.ip"); got != "r(0) ip(10.0.0.2) r(2) ip(10.1.0.2) " {
		t.Errorf("ip %q", got)
	}
	if got := get(t, m, "runtime.members.1.config_version"); got != "7" {
		t.Errorf("config_version %q", got)
	}
	w.ConfChg(&evs.Configuration{Transitional: true, Members: []evs.NodeID{1}})
	w.ConfChg(&evs.Configuration{Members: []evs.NodeID{1}})
	if got := get(t, m, "runtime.members.2.status"); got != "left" {
		t.Errorf("status after leaving %q", got)
	}
	w.ConfChg(&evs.Configuration{Members: []evs.NodeID{1, 2}})
	if got := get(t, m, "runtime.members.2.join_count"); got != "2" {
		t.Errorf("join_count after rejoining %q", got)
	}
	if got := get(t, m, "runtime.members.1.join_count"); got != "1" {
		t.Errorf("a member that stayed was counted again: %q", got)
	}
	if got := get(t, m, "runtime.members.2.status"); got != "joined" {
		t.Errorf("status after rejoining %q", got)
	}
}

func TestStaticAndCounters(t *testing.T) {
	m := icmap.New()
	svcs := []Service{{ID: 0, Short: "cmap", MsgIDs: 1}, {ID: 1, Short: "cfg", MsgIDs: 5}}
	PublishStatic(m, svcs)
	if got := get(t, m, "internal_configuration.service.1.name"); got != "corosync_cfg" {
		t.Errorf("name %q", got)
	}
	PublishStatic(m, []Service{{ID: 6, Short: "mon"}})
	if got := get(t, m, "internal_configuration.service.6.name"); got != "corosync_mon" {
		t.Errorf("mon is published as service %q, want it under its id 6", got)
	}
	if got := get(t, m, "internal_configuration.service.0.name"); got != "corosync_cmap" {
		t.Errorf("service 0 became %q", got)
	}
	if got := get(t, m, "runtime.services.cfg.4.tx"); got != "0" {
		t.Errorf("tx %q", got)
	}
	PublishCounters(m, svcs, []executive.ServiceCounter{{Service: 1, MsgID: 2, TX: 3, RX: 4}, {Service: 9, MsgID: 0, TX: 1}})
	if get(t, m, "runtime.services.cfg.2.tx") != "3" || get(t, m, "runtime.services.cfg.2.rx") != "4" {
		t.Error("counters not published")
	}
	if _, err := m.Get("runtime.services..0.tx"); err == nil {
		t.Error("an unknown service was published")
	}
}

func TestProtectReadOnly(t *testing.T) {
	m := icmap.New()
	ProtectReadOnly(m)
	for key, ro := range map[string]bool{
		"nodelist.node.0.name": true, "system.state_dir": true, "runtime.config.totem.token": true,
		"totem.secauth": true, "totem.token": false, "totem.secauth_extra": false,
		"runtime.force_gather": false, "logging.debug": false, "config.reload_in_progress": true,
	} {
		if m.ReadOnly(key) != ro {
			t.Errorf("%s: read-only %v, want %v", key, !ro, ro)
		}
	}
}
