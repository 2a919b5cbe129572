// Package ipc implements the libqb-compatible IPC server and client used between clients and corosyncd.
package ipc
