package main

import (
	"bufio"
	"context"
	"github.com/corosync-go/corosync/cmd/internal/cserr"
)

// load applies a -p file line by line: sets, deletions and deletions by prefix. A file
// that cannot be opened is reported and the tool still succeeds; a set that fails, or a
// line without type and value, ends it with 1. Failed deletions are reported and skipped.
func (t *tool) load(ctx context.Context, name string) error {
	f, err := t.sys.open(name)
	if err != nil {
		t.errorf("%s", perrorText("Couldn't open file.", err))
		return nil
	}
	defer f.Close()
	r := bufio.NewReader(f)
	for {
		chunk, err := nextChunk(r)
		if err != nil {
			return nil
		}
		l := parseLoadLine(chunk)
		switch l.kind {
		case lineSet:
			if err := t.setKey(ctx, l.key, l.typ, l.value); err != nil {
				return err
			}
		case lineDelete:
			if err := t.delete(ctx, l.key); err != nil {
				t.errorf("Can't delete key %s. Error %s\n", l.key, cserr.Strerror(cserr.Of(err)))
			}
		case lineDeletePrefix:
			if err := t.deletePrefix(ctx, l.key); err != nil {
				return err
			}
		case lineIncomplete:
			t.errorf("Both type and value for key %s are required\n", l.key)
			return exitStatus(1)
		}
	}
}
