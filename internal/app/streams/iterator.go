package streams

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/awswire"
)

// iteratorTTL is how long a shard iterator stays valid, as in Kinesis.
const iteratorTTL = 5 * time.Minute

const iteratorVersion = 1

// iterator is the decoded form of a shard iterator: where to read next and
// when the iterator was issued. Its wire form is base64 of version (1),
// shard index (u32), offset (u64), issue time ms (i64), stream creation
// time ms (i64), stream name length (u8) and name, CRC-32C (u32), all big
// endian. It is opaque to clients; the CRC catches damaged or made-up ones.
type iterator struct {
	stream   string
	created  int64
	shard    int
	offset   uint64
	issuedAt int64
}

type iteratorCodec struct{ table *crc32.Table }

func newIteratorCodec() *iteratorCodec {
	return &iteratorCodec{table: crc32.MakeTable(crc32.Castagnoli)}
}

func (ic *iteratorCodec) encode(it iterator) string {
	b := make([]byte, 0, 34+len(it.stream))
	b = append(b, iteratorVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(it.shard))
	b = binary.BigEndian.AppendUint64(b, it.offset)
	b = binary.BigEndian.AppendUint64(b, uint64(it.issuedAt))
	b = binary.BigEndian.AppendUint64(b, uint64(it.created))
	b = append(b, byte(len(it.stream)))
	b = append(b, it.stream...)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, ic.table))
	return base64.StdEncoding.EncodeToString(b)
}

// decode parses an iterator. It accepts one wrapped in double quotes, as the
// AWS CLI's --query 'ShardIterator' under JSON output leaves it.
func (ic *iteratorCodec) decode(s string, now time.Time) (iterator, error) {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	s = strings.TrimSpace(s)
	if len(s) < 1 || len(s) > 512 {
		return iterator{}, validationf(s, "shardIterator", "have length between 1 and 512")
	}
	invalid := awswire.Errorf(awswire.InvalidArgument, "Invalid ShardIterator: it was not issued by GetShardIterator or GetRecords of this service.")
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) < 34 || b[0] != iteratorVersion {
		return iterator{}, invalid
	}
	n := int(b[29])
	if len(b) != 34+n {
		return iterator{}, invalid
	}
	if binary.BigEndian.Uint32(b[30+n:]) != crc32.Checksum(b[:30+n], ic.table) {
		return iterator{}, invalid
	}
	it := iterator{
		shard:    int(binary.BigEndian.Uint32(b[1:])),
		offset:   binary.BigEndian.Uint64(b[5:]),
		issuedAt: int64(binary.BigEndian.Uint64(b[13:])),
		created:  int64(binary.BigEndian.Uint64(b[21:])),
		stream:   string(b[30 : 30+n]),
	}
	if age := now.UnixMilli() - it.issuedAt; age > iteratorTTL.Milliseconds() {
		return iterator{}, awswire.Errorf(awswire.ExpiredIterator,
			"Iterator expired. The iterator was created at time %s while right now it is %s which is further in the future than the tolerated delay of %d milliseconds.",
			time.UnixMilli(it.issuedAt).UTC().Format(time.RFC1123), now.UTC().Format(time.RFC1123), iteratorTTL.Milliseconds())
	}
	return it, nil
}
