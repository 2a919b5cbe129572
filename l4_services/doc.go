// Package services holds the service engines (cmap, cpg, quorum, votequorum, cfg, sam) and the sync protocol.
package services
