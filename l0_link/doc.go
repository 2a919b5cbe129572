// Package link moves batches of packets between the node and the wire (UDP, AF_XDP, RDMA, in-memory).
package link
