package logsys

import (
	"runtime"
	"strings"
)

// frameSource names a record's caller as corosync's %f, %n and %l would: the file's base
// name, the function without its package path ("Instance.deliver" for a method), the
// line; "?" and 0 when the record has no PC.
func frameSource(pc uintptr) (string, string, int) {
	if pc == 0 {
		return "?", "?", 0
	}
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	file := f.File
	if i := strings.LastIndexByte(file, '/'); i >= 0 {
		file = file[i+1:]
	}
	return file, shortFunc(f.Function), f.Line
}

// shortFunc trims "example.com/pkg/name.(*T).m.func1" to "T.m.func1".
func shortFunc(fn string) string {
	if i := strings.LastIndexByte(fn, '/'); i >= 0 {
		fn = fn[i+1:]
	}
	if i := strings.IndexByte(fn, '.'); i >= 0 {
		fn = fn[i+1:]
	}
	fn = strings.ReplaceAll(fn, "(*", "")
	fn = strings.ReplaceAll(fn, ")", "")
	if fn == "" {
		return "?"
	}
	return fn
}
