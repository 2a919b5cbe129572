module github.com/corosync-go/corosync

go 1.26
