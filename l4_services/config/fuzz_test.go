package config

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/corosync-go/corosync/l4_services/icmap"
)

// FuzzParseBytes checks that the parser never panics, that its errors are *ParseError on a
// line of the input, that what it accepts is consistent (valid icmap keys, Map matching
// Entries, lines in range), and that validation of anything it accepts does not panic.
func FuzzParseBytes(f *testing.F) {
	for _, c := range referenceConfigs {
		f.Add([]byte(c))
	}
	for _, c := range grammarErrors {
		f.Add([]byte(c.in))
	}
	for _, c := range acceptedConfigs {
		f.Add([]byte(c.conf))
	}
	f.Add([]byte("totem {\n interface {\n  member {\n   memberaddr: a\n  }\n }\n}\nlogging {\n logging_daemon {\n  name: x\n  subsys: y\n }\n}\n"))
	host := fakeHost("fuzz", "127.0.0.1", "192.0.2.1")
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &Parser{
			LookupUser:  func(string) (uint32, error) { return 0, errors.New("no users") },
			LookupGroup: func(string) (uint32, error) { return 0, errors.New("no groups") },
		}
		cfg, err := p.ParseBytes("f.conf", data)
		lines := strings.Count(string(data), "\n") + 1
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *ParseError", err, err)
			}
			if pe.Line < 1 || pe.Line > lines || pe.File != "f.conf" || pe.Msg == "" {
				t.Fatalf("error %v outside the input's %d lines", pe, lines)
			}
			return
		}
		if len(cfg.Map) != len(cfg.Entries) {
			t.Fatalf("%d map keys for %d entries", len(cfg.Map), len(cfg.Entries))
		}
		for _, e := range cfg.Entries {
			if !icmap.ValidKey(e.Key) {
				t.Fatalf("invalid key %q stored", e.Key)
			}
			if v, ok := cfg.Map[e.Key]; !ok || !v.Equal(e.Value) {
				t.Fatalf("map and entries disagree on %q", e.Key)
			}
			if e.Line < 1 || e.Line > lines {
				t.Fatalf("%q set on line %d of %d", e.Key, e.Line, lines)
			}
			if e.Value.ICMAP().Type() != e.Value.Type {
				t.Fatalf("%q: value %#v does not convert", e.Key, e.Value)
			}
		}
		derived, err := Derive(context.Background(), cfg, host)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Line < 0 || ve.Line > lines {
				t.Fatalf("validation error %#v", err)
			}
			return
		}
		for _, e := range derived {
			if !icmap.ValidKey(e.Key) {
				t.Fatalf("invalid derived key %q", e.Key)
			}
		}
	})
}
