// Package transport turns links into authenticated, compressed, fragmented peer-to-peer delivery of totem packets.
package transport
