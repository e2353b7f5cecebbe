package streamlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// The segment file format; docs/format/segment.md is its specification.
const (
	segMagic       = "TPSG"
	segVersion     = 1
	segHeaderSize  = 32
	frameHeadSize  = 8  // body length u32, CRC-32C of body u32
	bodyFixedSize  = 18 // offset u64, arrival ms i64, partition key length u16
	recordOverhead = frameHeadSize + bodyFixedSize

	// MaxPartitionKeyBytes bounds a partition key's UTF-8 form (256
	// characters of up to 4 bytes).
	MaxPartitionKeyBytes = 1024
	// MaxRecordBody bounds a record body: 1 MiB of data plus a key.
	maxRecordBody = bodyFixedSize + MaxPartitionKeyBytes + 1<<20

	segSuffix = ".seg"
	idxSuffix = ".idx"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errCorrupt reports bytes that are not a valid record: a torn tail after a
// crash, or damage.
var errCorrupt = errors.New("corrupt record")

// segHeader is the fixed header at the start of every segment file.
type segHeader struct {
	Gen  uint64 // generation of the writer that created the segment
	Base uint64 // offset of the segment's first record
}

func (h segHeader) encode() []byte {
	b := make([]byte, segHeaderSize)
	copy(b, segMagic)
	b[4] = segVersion
	binary.LittleEndian.PutUint64(b[8:], h.Gen)
	binary.LittleEndian.PutUint64(b[16:], h.Base)
	binary.LittleEndian.PutUint32(b[24:], crc32.Checksum(b[:24], castagnoli))
	return b
}

func decodeSegHeader(b []byte) (segHeader, error) {
	if len(b) < segHeaderSize {
		return segHeader{}, fmt.Errorf("%w: segment header is %d bytes, want %d", errCorrupt, len(b), segHeaderSize)
	}
	if string(b[:4]) != segMagic {
		return segHeader{}, fmt.Errorf("%w: segment magic %q", errCorrupt, b[:4])
	}
	if b[4] != segVersion {
		return segHeader{}, fmt.Errorf("segment version %d is not supported (this build reads version %d)", b[4], segVersion)
	}
	if crc32.Checksum(b[:24], castagnoli) != binary.LittleEndian.Uint32(b[24:]) {
		return segHeader{}, fmt.Errorf("%w: segment header checksum mismatch", errCorrupt)
	}
	if binary.LittleEndian.Uint32(b[28:]) != 0 || b[5]|b[6]|b[7] != 0 {
		return segHeader{}, fmt.Errorf("%w: reserved segment header bytes are not zero", errCorrupt)
	}
	return segHeader{Gen: binary.LittleEndian.Uint64(b[8:]), Base: binary.LittleEndian.Uint64(b[16:])}, nil
}

// appendRecord appends one framed record to dst.
func appendRecord(dst []byte, offset uint64, arrival int64, pk, data []byte) []byte {
	bodyLen := bodyFixedSize + len(pk) + len(data)
	start := len(dst)
	dst = append(dst, make([]byte, frameHeadSize+bodyFixedSize)...)
	b := dst[start:]
	binary.LittleEndian.PutUint32(b[0:], uint32(bodyLen))
	binary.LittleEndian.PutUint64(b[8:], offset)
	binary.LittleEndian.PutUint64(b[16:], uint64(arrival))
	binary.LittleEndian.PutUint16(b[24:], uint16(len(pk)))
	dst = append(dst, pk...)
	dst = append(dst, data...)
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(dst[start+frameHeadSize:], castagnoli))
	return dst
}

// Record is one record read from a shard. PartitionKey and Data alias the
// buffer the read was made into.
type Record struct {
	Offset       uint64
	Gen          uint64
	Arrival      int64 // Unix milliseconds
	PartitionKey []byte
	Data         []byte
}

// decodeRecord decodes the framed record at the start of b. It returns the
// record and the frame's size, or n == 0 with a nil error if b holds only
// part of a frame, or errCorrupt.
func decodeRecord(b []byte) (r Record, n int, err error) {
	if len(b) < frameHeadSize {
		return Record{}, 0, nil
	}
	bodyLen := int(binary.LittleEndian.Uint32(b))
	if bodyLen < bodyFixedSize || bodyLen > maxRecordBody {
		return Record{}, 0, fmt.Errorf("%w: body length %d", errCorrupt, bodyLen)
	}
	if len(b) < frameHeadSize+bodyLen {
		return Record{}, 0, nil
	}
	body := b[frameHeadSize : frameHeadSize+bodyLen]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return Record{}, 0, fmt.Errorf("%w: checksum mismatch", errCorrupt)
	}
	pkLen := int(binary.LittleEndian.Uint16(body[16:]))
	if bodyFixedSize+pkLen > bodyLen {
		return Record{}, 0, fmt.Errorf("%w: partition key length %d exceeds body", errCorrupt, pkLen)
	}
	r.Offset = binary.LittleEndian.Uint64(body)
	r.Arrival = int64(binary.LittleEndian.Uint64(body[8:]))
	r.PartitionKey = body[bodyFixedSize : bodyFixedSize+pkLen]
	r.Data = body[bodyFixedSize+pkLen:]
	return r, frameHeadSize + bodyLen, nil
}

// frameOffsetArrival reads a frame's offset and arrival time without
// checking it; the frame must be complete and valid.
func frameOffsetArrival(b []byte) (uint64, int64) {
	return binary.LittleEndian.Uint64(b[frameHeadSize:]), int64(binary.LittleEndian.Uint64(b[frameHeadSize+8:]))
}

// DecodeSegment decodes a whole segment file image, for tools and fuzzing:
// the header, every complete valid record, and the byte length of the valid
// prefix (where recovery would truncate). It never panics.
func DecodeSegment(b []byte) (h segHeader, recs []Record, valid int, err error) {
	h, err = decodeSegHeader(b)
	if err != nil {
		return h, nil, 0, err
	}
	pos := segHeaderSize
	next := h.Base
	for {
		r, n, derr := decodeRecord(b[pos:])
		if derr != nil || n == 0 || r.Offset != next {
			return h, recs, pos, nil
		}
		r.Gen = h.Gen
		recs = append(recs, r)
		pos += n
		next++
	}
}
