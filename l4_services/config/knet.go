package config

import "strings"

// DefaultCryptoModels returns the crypto models Debian 12's libknet 1.25 offers corosync
// 3.1.7 (`corosync -v`: "Available crypto models: nss openssl").
func DefaultCryptoModels() []string { return []string{"nss", "openssl"} }

// DefaultCompressModels returns Debian 12's libknet 1.25 compression models (`corosync
// -v`). "none" is not among them, so corosync 3.1.7 rejects knet_compression_model: none
// even though it is the documented default.
func DefaultCompressModels() []string {
	return []string{"zlib", "lz4", "lz4hc", "lzo2", "lzma", "bzip2", "zstd"}
}

func (p *Parser) cryptoModels() []string {
	if p.CryptoModels != nil {
		return p.CryptoModels
	}
	return DefaultCryptoModels()
}

func (p *Parser) compressModels() []string {
	if p.CompressModels != nil {
		return p.CompressModels
	}
	return DefaultCompressModels()
}

// checkModel returns "" when value is one of models, else corosync's message: prefix and
// the models as "a, b or c".
func checkModel(value string, models []string, prefix string) string {
	for _, m := range models {
		if m == value {
			return ""
		}
	}
	var b strings.Builder
	b.WriteString(prefix)
	for i, m := range models {
		switch {
		case i == 0:
		case i == len(models)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(m)
	}
	return b.String()
}
