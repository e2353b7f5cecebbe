package streams

// DescribeStream.
//
// Behavior: describes the stream and pages through its shards with Limit
// (default 100, 1 to 10000) and ExclusiveStartShardId, setting
// HasMoreShards. StreamStatus is always ACTIVE, EncryptionType NONE and
// EnhancedMonitoring empty. Shards never close here, so no shard has an
// EndingSequenceNumber or a parent.

import (
	"github.com/tenantpulse/tenantpulse/internal/awswire"
)

type describeStreamInput struct {
	StreamName            string `json:"StreamName"`
	StreamARN             string `json:"StreamARN"`
	Limit                 *int32 `json:"Limit"`
	ExclusiveStartShardId string `json:"ExclusiveStartShardId"`
}

type streamDescription struct {
	StreamName              string             `json:"StreamName"`
	StreamARN               string             `json:"StreamARN"`
	StreamStatus            string             `json:"StreamStatus"`
	StreamModeDetails       streamModeDetails  `json:"StreamModeDetails"`
	Shards                  []shardDesc        `json:"Shards"`
	HasMoreShards           bool               `json:"HasMoreShards"`
	RetentionPeriodHours    int                `json:"RetentionPeriodHours"`
	StreamCreationTimestamp *awswire.Timestamp `json:"StreamCreationTimestamp"`
	EnhancedMonitoring      []enhancedMetrics  `json:"EnhancedMonitoring"`
	EncryptionType          string             `json:"EncryptionType"`
}

type describeStreamOutput struct {
	StreamDescription streamDescription `json:"StreamDescription"`
}

func (s *Service) describeStream(c *call) error {
	var in describeStreamInput
	if err := c.decode(&in); err != nil {
		return err
	}
	if err := validateLimit(in.Limit, "limit", 1, 10000); err != nil {
		return err
	}
	st, err := s.resolveStream(in.StreamName, in.StreamARN)
	if err != nil {
		return err
	}
	limit := 100
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	info := st.Info()
	d := streamDescription{
		StreamName: info.Name, StreamARN: streamARN(c.region, info.Name), StreamStatus: "ACTIVE",
		StreamModeDetails: streamModeDetails{StreamMode: info.Mode}, Shards: []shardDesc{},
		RetentionPeriodHours: info.RetentionHours, StreamCreationTimestamp: ts(info.Created),
		EnhancedMonitoring: []enhancedMetrics{{ShardLevelMetrics: []string{}}}, EncryptionType: "NONE",
	}
	for _, sh := range st.Shards() {
		if in.ExclusiveStartShardId != "" && sh.ID() <= in.ExclusiveStartShardId {
			continue
		}
		if len(d.Shards) == limit {
			d.HasMoreShards = true
			break
		}
		d.Shards = append(d.Shards, describeShard(sh))
	}
	return c.reply(&describeStreamOutput{StreamDescription: d})
}
