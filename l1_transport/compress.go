package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// CompressionConfig uses corosync's knet_compression_* names.
type CompressionConfig struct {
	// Model is knet_compression_model: none (default), s2, lz4, lz4hc, zstd or zlib.
	Model string
	// ThresholdBytes is knet_compression_threshold: messages shorter than this are sent
	// as they are. 0 means the default (100, as knet); 1 compresses everything.
	ThresholdBytes int
	// Level is knet_compression_level; 0 picks the model's default.
	Level int
}

// DefaultCompressionThresholdBytes is knet's default threshold.
const DefaultCompressionThresholdBytes = 100

// compression model ids carried in the packet flags, so a receiver decodes whatever its
// peer chose.
const (
	modelNone uint8 = 0
	modelS2   uint8 = 1
	modelLZ4  uint8 = 2
	modelZstd uint8 = 3
	modelZlib uint8 = 4
)

var errDecompress = errors.New("transport: message does not decompress")

// compressor compresses outgoing messages with one model; it is used by one goroutine.
type compressor struct {
	model     uint8
	threshold int
	level     int
	zenc      *zstd.Encoder
	lz        lz4.CompressorHC
	lzFast    lz4.Compressor
	hc        bool
	zbuf      bytes.Buffer
	// st, when set, receives knet's handle counters of compression (the compressor runs
	// under the transport's send lock, which guards them).
	st *txHandleCounters
}

func newCompressor(cfg CompressionConfig) (*compressor, error) {
	c := &compressor{threshold: cfg.ThresholdBytes, level: cfg.Level}
	if c.threshold <= 0 {
		c.threshold = DefaultCompressionThresholdBytes
	}
	switch cfg.Model {
	case "", "none":
		c.model = modelNone
	case "s2":
		c.model = modelS2
	case "lz4", "lz4hc":
		c.model = modelLZ4
		c.hc = cfg.Model == "lz4hc"
		if cfg.Level > 0 {
			c.lz.Level = lz4.CompressionLevel(1 << (8 + min(cfg.Level, 9)))
		}
	case "zstd":
		c.model = modelZstd
		lvl := zstd.SpeedFastest
		if cfg.Level > 0 {
			lvl = zstd.EncoderLevelFromZstd(cfg.Level)
		}
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(lvl), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
		if err != nil {
			return nil, err
		}
		c.zenc = enc
	case "zlib":
		c.model = modelZlib
	default:
		return nil, fmt.Errorf("transport: knet_compression_model %q is not supported (none, s2, lz4, lz4hc, zstd, zlib)", cfg.Model)
	}
	return c, nil
}

// compress returns the message to send and its model id: the compressed form when the
// message reaches the threshold and compression made it smaller, else src with modelNone.
// With a model configured it counts as knet does: every message either compressed (even
// when the result is not used) or uncompressed.
func (c *compressor) compress(dst, src []byte) ([]byte, uint8) {
	if c.model == modelNone {
		return src, modelNone
	}
	if len(src) < c.threshold {
		if c.st != nil {
			c.st.uncompressed++
		}
		return src, modelNone
	}
	var start time.Time
	timed := c.st != nil && sampled(c.st.compressed)
	if timed {
		start = time.Now()
	}
	out := c.encode(dst, src)
	if c.st != nil {
		if timed {
			c.st.compressTime.add(time.Since(start))
		}
		if out != nil {
			c.st.compressed++
			c.st.compressedIn += uint64(len(src))
			c.st.compressedOut += uint64(len(out))
		}
	}
	if out == nil || len(out) >= len(src) {
		if c.st != nil {
			c.st.uncompressed++
		}
		return src, modelNone
	}
	return out, c.model
}

// encode compresses src with the model into dst's room; nil when it fails.
func (c *compressor) encode(dst, src []byte) []byte {
	var out []byte
	switch c.model {
	case modelS2:
		out = s2.Encode(dst[:cap(dst)], src)
	case modelLZ4:
		buf := dst[:cap(dst)]
		if len(buf) < lz4.CompressBlockBound(len(src)) {
			buf = make([]byte, lz4.CompressBlockBound(len(src)))
		}
		var n int
		var err error
		if c.hc {
			n, err = c.lz.CompressBlock(src, buf)
		} else {
			n, err = c.lzFast.CompressBlock(src, buf)
		}
		if err != nil || n == 0 {
			return nil
		}
		out = buf[:n]
	case modelZstd:
		out = c.zenc.EncodeAll(src, dst[:0])
	case modelZlib:
		c.zbuf.Reset()
		level := c.level
		if level == 0 {
			level = zlib.DefaultCompression
		}
		w, err := zlib.NewWriterLevel(&c.zbuf, level)
		if err != nil {
			return nil
		}
		w.Write(src)
		w.Close()
		out = append(dst[:0], c.zbuf.Bytes()...)
	}
	return out
}

// decompressor expands received messages, never beyond maxBytes.
type decompressor struct {
	zdec *zstd.Decoder
}

func newDecompressor(maxBytes int) *decompressor {
	d, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(maxBytes)), zstd.WithDecoderLowmem(true))
	return &decompressor{zdec: d}
}

// decompress writes the expansion of src into dst (whose capacity bounds the result).
func (d *decompressor) decompress(dst, src []byte, model uint8) ([]byte, error) {
	limit := cap(dst)
	switch model {
	case modelNone:
		return src, nil
	case modelS2:
		n, err := s2.DecodedLen(src)
		if err != nil || n > limit {
			return nil, errDecompress
		}
		out, err := s2.Decode(dst[:n], src)
		if err != nil {
			return nil, errDecompress
		}
		return out, nil
	case modelLZ4:
		n, err := lz4.UncompressBlock(src, dst[:limit])
		if err != nil {
			return nil, errDecompress
		}
		return dst[:n], nil
	case modelZstd:
		out, err := d.zdec.DecodeAll(src, dst[:0])
		if err != nil || len(out) > limit {
			return nil, errDecompress
		}
		return out, nil
	case modelZlib:
		r, err := zlib.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, errDecompress
		}
		out := bytes.NewBuffer(dst[:0])
		n, err := io.Copy(out, io.LimitReader(r, int64(limit)+1))
		if err != nil || n > int64(limit) {
			return nil, errDecompress
		}
		return out.Bytes(), nil
	}
	return nil, errDecompress
}
