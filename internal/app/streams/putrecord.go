package streams

// PutRecord.
//
// Behavior: as AWS: the partition key's MD5 (or ExplicitHashKey) picks the
// shard; the record is durable (fsync, unless --fsync interval) before the
// reply, which carries the shard id and a 56-digit sequence number.
// SequenceNumberForOrdering is validated and needs no further action: a
// shard's sequence numbers always increase. Errors: ValidationException for
// a missing or oversized key or data (1 MiB), InvalidArgumentException for a
// bad ExplicitHashKey, ProvisionedThroughputExceededException when the store
// cannot take the write (disk nearly full, writes not keeping up) or a
// shard's quota is exceeded under --shard-limits aws.

import (
	"strconv"
	"unicode/utf8"

	"github.com/tenantpulse/tenantpulse/internal/awswire"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

type putRecordInput struct {
	StreamName                string  `json:"StreamName"`
	StreamARN                 string  `json:"StreamARN"`
	PartitionKey              *string `json:"PartitionKey"`
	Data                      []byte  `json:"Data"`
	ExplicitHashKey           *string `json:"ExplicitHashKey"`
	SequenceNumberForOrdering *string `json:"SequenceNumberForOrdering"`
}

type putRecordOutput struct {
	ShardId        string `json:"ShardId"`
	SequenceNumber string `json:"SequenceNumber"`
	EncryptionType string `json:"EncryptionType"`
}

// maxDataBytes is the largest record data blob, before base64.
const maxDataBytes = 1 << 20

// checkRecord validates one record's key, data and explicit hash key and
// returns the hash key that routes it. index is the record's position in a
// PutRecords request, or -1 for PutRecord; it names the member in messages.
func (s *Service) checkRecord(index int, pk []byte, hasData bool, dataLen int, ehk []byte) (streamlog.HashKey, error) {
	field := func() string {
		if index < 0 {
			return ""
		}
		return "records." + strconv.Itoa(index+1) + ".member."
	}
	if pk == nil {
		return streamlog.HashKey{}, validationf("null", field()+"partitionKey", "not be null")
	}
	if n := utf8.RuneCount(pk); n < 1 || n > 256 {
		return streamlog.HashKey{}, validationf(string(pk), field()+"partitionKey", "have length between 1 and 256")
	}
	if !hasData {
		return streamlog.HashKey{}, validationf("null", field()+"data", "not be null")
	}
	if dataLen > maxDataBytes {
		return streamlog.HashKey{}, validationf("java.nio.HeapByteBuffer[pos=0 lim="+strconv.Itoa(dataLen)+"]", field()+"data", "have length less than or equal to 1048576")
	}
	if ehk != nil {
		k, err := streamlog.ParseHashKey(ehk)
		if err != nil {
			return k, awswire.Errorf(awswire.InvalidArgument, "Invalid ExplicitHashKey %q. ExplicitHashKey must be in the range: [0, 2^128-1].", ehk)
		}
		return k, nil
	}
	return s.hashes.Hash(pk), nil
}

func (s *Service) putRecord(c *call) error {
	var in putRecordInput
	if err := c.decode(&in); err != nil {
		return err
	}
	var pk, ehk []byte
	if in.PartitionKey != nil {
		pk = []byte(*in.PartitionKey)
	}
	if in.ExplicitHashKey != nil {
		ehk = []byte(*in.ExplicitHashKey)
	}
	key, err := s.checkRecord(-1, pk, in.Data != nil, len(in.Data), ehk)
	if err != nil {
		return err
	}
	if in.SequenceNumberForOrdering != nil {
		if _, err := streamlog.ParseSeq(*in.SequenceNumberForOrdering); err != nil {
			return awswire.Errorf(awswire.InvalidArgument, "SequenceNumberForOrdering: %v", err)
		}
	}
	st, err := s.resolveStream(in.StreamName, in.StreamARN)
	if err != nil {
		return err
	}
	sh := st.ShardFor(key)
	if s.limits != nil && !s.limits.allowPut(st.Name(), sh.ID(), len(in.Data)+len(pk)) {
		return throttledShard(st.Name(), sh.ID())
	}
	var seq [1]streamlog.Seq
	if _, err := sh.Append([]streamlog.Entry{{PartitionKey: pk, Data: in.Data}}, seq[:]); err != nil {
		return err
	}
	s.records.WithLabelValues(st.Name(), "in").Inc()
	return c.reply(&putRecordOutput{ShardId: sh.ID(), SequenceNumber: seq[0].String(), EncryptionType: "NONE"})
}

func throttledShard(stream, shard string) error {
	return awswire.Errorf(awswire.ProvisionedThroughputExceeded, "Rate exceeded for shard %s in stream %s under account %s.", shard, stream, Account)
}
