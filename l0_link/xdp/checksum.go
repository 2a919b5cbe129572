package xdp

import (
	"encoding/binary"
	"math/bits"
)

// onesSum adds b to the running Internet-checksum sum acc (RFC 1071) and returns the new
// 64-bit accumulator; fold reduces it to 16 bits. Summing big-endian 64-bit words with
// end-around carry gives the same result as summing 16-bit words, because 2^16−1 divides
// 2^64−1, and is four times fewer additions. An odd final byte is padded with zero as the
// RFC says, so b must be the last piece when its length is odd.
func onesSum(acc uint64, b []byte) uint64 {
	var carry uint64
	for len(b) >= 32 {
		acc, carry = bits.Add64(acc, binary.BigEndian.Uint64(b), carry)
		acc, carry = bits.Add64(acc, binary.BigEndian.Uint64(b[8:]), carry)
		acc, carry = bits.Add64(acc, binary.BigEndian.Uint64(b[16:]), carry)
		acc, carry = bits.Add64(acc, binary.BigEndian.Uint64(b[24:]), carry)
		b = b[32:]
	}
	for len(b) >= 8 {
		acc, carry = bits.Add64(acc, binary.BigEndian.Uint64(b), carry)
		b = b[8:]
	}
	// Fold the pending carry and the tail in with end-around carry each time: a carry
	// out of either addition is worth 1 in one's-complement arithmetic.
	acc = addCarry(acc, carry)
	var tail uint64
	if len(b) > 0 {
		var pad [8]byte
		copy(pad[:], b)
		tail = binary.BigEndian.Uint64(pad[:])
	}
	return addCarry(acc, tail)
}

// addCarry adds v to the accumulator with end-around carry.
func addCarry(acc, v uint64) uint64 {
	sum, carry := bits.Add64(acc, v, 0)
	return sum + carry
}

// fold reduces a 64-bit accumulator to the 16-bit one's-complement sum.
func fold(acc uint64) uint16 {
	acc = (acc >> 32) + (acc & 0xffffffff)
	acc = (acc >> 32) + (acc & 0xffffffff)
	acc = (acc >> 16) + (acc & 0xffff)
	acc = (acc >> 16) + (acc & 0xffff)
	acc = (acc >> 16) + (acc & 0xffff)
	return uint16(acc)
}

// checksum returns the Internet checksum (the complement of the folded sum) of b.
func checksum(b []byte) uint16 { return ^fold(onesSum(0, b)) }
