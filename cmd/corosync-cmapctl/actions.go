package main

import (
	"context"
	"io"
	"time"

	"github.com/corosync-go/corosync/cmd/internal/cserr"
	"github.com/corosync-go/corosync/ipc"
	"github.com/corosync-go/corosync/ipc/cmap"
)

// maxNameBytes is CS_MAX_NAME_LENGTH: libcmap refuses key names of this length or more.
const maxNameBytes = 256

// list prints the keys under each prefix (every key without one). It fails when every
// prefix matched nothing.
func (t *tool) list(ctx context.Context, prefixes []string) error {
	empty := 0
	if len(prefixes) == 0 {
		prefixes = []string{""}
	}
	for _, p := range prefixes {
		found, err := t.printPrefix(ctx, p)
		if err != nil {
			return err
		}
		if !found {
			empty++
		}
	}
	if empty > 0 && empty >= len(t.opts.operands) {
		return exitStatus(1)
	}
	return nil
}

// printPrefix prints the keys starting with prefix and reports whether there were any.
func (t *tool) printPrefix(ctx context.Context, prefix string) (bool, error) {
	entries, err := t.iter(ctx, prefix)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if err := t.printStored(ctx, e); err != nil {
			return false, err
		}
	}
	return len(entries) > 0, nil
}

// iter lists the keys under prefix, failing as 3.1.7 does when it cannot.
func (t *tool) iter(ctx context.Context, prefix string) ([]cmap.Entry, error) {
	var entries []cmap.Entry
	err := ipc.CSErrNameTooLong.Err()
	if len(prefix) < maxNameBytes {
		entries, err = t.cmap.Iter(ctx, prefix)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		t.errorf("Failed to initialize iteration. Error %s\n", cserr.Strerror(cserr.Of(err)))
		return nil, exitStatus(1)
	}
	return entries, nil
}

// printStored fetches and prints a key an iteration found (a binary one is fetched only
// for -b). A key that changed type or grew since is reported as 3.1.7's typed getters
// report it: CS_ERR_INVALID_PARAM.
func (t *tool) printStored(ctx context.Context, e cmap.Entry) error {
	var v cmap.Value
	if e.Type != cmap.TypeBinary || t.flags.showBinary {
		var err error
		v, err = t.getRetrying(ctx, e.Key)
		if err == nil && ((e.Type == cmap.TypeBinary && uint64(v.Len()) > e.Len) ||
			(e.Type != cmap.TypeBinary && v.Type() != e.Type)) {
			err = ipc.CSErrInvalid
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			t.errorf("Can't get value of %s. Error %s\n", e.Key, cserr.Strerror(cserr.Of(err)))
			return nil
		}
	}
	t.out.Write(appendKey(nil, e.Key, e.Type, v, t.flags))
	return nil
}

// getRetrying is Get, repeated a second apart while the daemon answers CS_ERR_TRY_AGAIN.
func (t *tool) getRetrying(ctx context.Context, key string) (cmap.Value, error) {
	for tries := 0; ; tries++ {
		v, err := t.cmap.Get(ctx, key)
		if cserr.Of(err) != ipc.CSErrTryAgain || tries >= maxTryAgain {
			return v, err
		}
		if err := t.sys.wait(ctx, time.Second); err != nil {
			return cmap.Value{}, err
		}
	}
}

// getKeys prints each key, stopping at the first that cannot be read.
func (t *tool) getKeys(ctx context.Context, keys []string) error {
	for _, k := range keys {
		var v cmap.Value
		err := ipc.CSErrNameTooLong.Err()
		if len(k) < maxNameBytes {
			v, err = t.cmap.Get(ctx, k)
		}
		if err != nil {
			t.errorf("Can't get key %s. Error %s\n", k, cserr.Strerror(cserr.Of(err)))
			return exitStatus(1)
		}
		t.out.Write(appendKey(nil, k, v.Type(), v, t.flags))
	}
	return nil
}

// deleteKeys deletes each key, stopping at the first failure.
func (t *tool) deleteKeys(ctx context.Context, keys []string) error {
	for _, k := range keys {
		if err := t.delete(ctx, k); err != nil {
			t.errorf("Can't delete key %s. Error %s\n", k, cserr.Strerror(cserr.Of(err)))
			return exitStatus(1)
		}
	}
	return nil
}

func (t *tool) delete(ctx context.Context, key string) error {
	if len(key) >= maxNameBytes {
		return ipc.CSErrNameTooLong
	}
	return t.cmap.Delete(ctx, key)
}

// deletePrefix deletes every key under prefix, reporting the ones that cannot go.
func (t *tool) deletePrefix(ctx context.Context, prefix string) error {
	entries, err := t.iter(ctx, prefix)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := t.delete(ctx, e.Key); err != nil {
			t.errorf("Can't delete key %s. Error %s\n", e.Key, cserr.Strerror(cserr.Of(err)))
		}
	}
	return nil
}

// setKey parses and stores a value as set_key does (-s, and set lines of -p files),
// ending the tool with a message on any failure.
func (t *tool) setKey(ctx context.Context, key, typeName, text string) error {
	typ, v, err := parseValue(typeName, text)
	if err != nil {
		t.errorf("%s", err.Error())
		return exitStatus(1)
	}
	if typ == cmap.TypeBinary {
		data, err := t.readBinary(text)
		if err != nil {
			return err
		}
		v = cmap.Binary(data)
	}
	if err := t.set(ctx, key, v); err != nil {
		t.errorf("Failed to set key %s. Error %s\n", key, cserr.Strerror(cserr.Of(err)))
		return exitStatus(1)
	}
	return nil
}

// set stores v, first refusing what libcmap's cmap_set refuses before sending, in its
// order: an empty binary (it has no data pointer), a long name, a request larger than
// the connection's messages.
func (t *tool) set(ctx context.Context, key string, v cmap.Value) error {
	switch {
	case v.Type() == cmap.TypeBinary && v.Len() == 0:
		return ipc.CSErrInvalid
	case len(key) >= maxNameBytes:
		return ipc.CSErrNameTooLong
	case cmap.SetRequestBytes+v.Len() > ipc.DefaultMaxMessageBytes:
		return ipc.CSErrTooBig
	}
	return t.cmap.Set(ctx, key, v)
}

// readBinary reads a bin value from the named file, or stdin for "-". Like fread, a read
// error ends the value where it happened.
func (t *tool) readBinary(name string) ([]byte, error) {
	r := t.sys.stdin
	if name != "-" {
		f, err := t.sys.open(name)
		if err != nil {
			t.errorf("%s", perrorText("Can't open input file", err))
			return nil, exitStatus(1)
		}
		defer f.Close()
		r = f
	}
	data, _ := io.ReadAll(r) // on an error, what came before it
	return data, nil
}
