package streams

// ListShards.
//
// Behavior: pages through a stream's shards with MaxResults (default 1000,
// 1 to 10000), ExclusiveStartShardId and NextToken (which cannot be combined
// with StreamName/StreamARN, and expires after 300 seconds). ShardFilter is
// validated; since shards never close here, every type but AFTER_SHARD_ID
// (which starts after ShardId) returns all shards. StreamCreationTimestamp,
// when given, must match the stream's.

import (
	"strconv"

	"github.com/tenantpulse/tenantpulse/internal/awswire"
)

type shardFilter struct {
	Type      string             `json:"Type"`
	ShardId   string             `json:"ShardId"`
	Timestamp *awswire.Timestamp `json:"Timestamp"`
}

type listShardsInput struct {
	StreamName              string             `json:"StreamName"`
	StreamARN               string             `json:"StreamARN"`
	NextToken               string             `json:"NextToken"`
	ExclusiveStartShardId   string             `json:"ExclusiveStartShardId"`
	MaxResults              *int32             `json:"MaxResults"`
	StreamCreationTimestamp *awswire.Timestamp `json:"StreamCreationTimestamp"`
	ShardFilter             *shardFilter       `json:"ShardFilter"`
}

type listShardsOutput struct {
	Shards    []shardDesc `json:"Shards"`
	NextToken string      `json:"NextToken,omitempty"`
}

func (s *Service) listShards(c *call) error {
	var in listShardsInput
	if err := c.decode(&in); err != nil {
		return err
	}
	if err := validateLimit(in.MaxResults, "maxResults", 1, 10000); err != nil {
		return err
	}
	name, after := in.StreamName, in.ExclusiveStartShardId
	var created int64 = -1
	if in.NextToken != "" {
		if in.StreamName != "" || in.StreamARN != "" {
			return awswire.Errorf(awswire.InvalidArgument, "NextToken and StreamName cannot be provided together.")
		}
		if in.ExclusiveStartShardId != "" {
			return awswire.Errorf(awswire.InvalidArgument, "NextToken and ExclusiveStartShardId cannot be provided together.")
		}
		scope, last, err := decodeToken(in.NextToken, "ListShards", s.opts.Now())
		if err != nil {
			return err
		}
		i := len(scope) - 1
		for i >= 0 && scope[i] != '@' {
			i--
		}
		if i < 0 {
			return awswire.Errorf(awswire.InvalidArgument, "NextToken %q is not valid.", in.NextToken)
		}
		name, after = scope[:i], last
		created, _ = strconv.ParseInt(scope[i+1:], 10, 64)
	}
	if in.ShardFilter != nil {
		switch in.ShardFilter.Type {
		case "AFTER_SHARD_ID":
			if in.ShardFilter.ShardId == "" {
				return awswire.Errorf(awswire.InvalidArgument, "ShardFilter of type AFTER_SHARD_ID needs a ShardId.")
			}
			if in.ShardFilter.ShardId > after {
				after = in.ShardFilter.ShardId
			}
		case "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST":
		case "AT_TIMESTAMP", "FROM_TIMESTAMP":
			if in.ShardFilter.Timestamp == nil {
				return awswire.Errorf(awswire.InvalidArgument, "ShardFilter of type %s needs a Timestamp.", in.ShardFilter.Type)
			}
		default:
			return validationf(in.ShardFilter.Type, "shardFilter.type", "satisfy enum value set: [AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP]")
		}
	}
	var arn string
	if in.NextToken == "" {
		arn = in.StreamARN
	}
	st, err := s.resolveStream(name, arn)
	if err != nil {
		return err
	}
	info := st.Info()
	if created >= 0 && created != info.Created.UnixMilli() {
		return awswire.Errorf(awswire.ExpiredNextToken, "The stream was deleted and created again since the NextToken was issued. Start the listing again.")
	}
	if in.StreamCreationTimestamp != nil && !in.StreamCreationTimestamp.Time.Equal(info.Created) {
		return notFound(info.Name)
	}
	limit := 1000
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
	}
	out := listShardsOutput{Shards: []shardDesc{}}
	more := false
	for _, sh := range st.Shards() {
		if after != "" && sh.ID() <= after {
			continue
		}
		if len(out.Shards) == limit {
			more = true
			break
		}
		out.Shards = append(out.Shards, describeShard(sh))
	}
	if more {
		scope := info.Name + "@" + strconv.FormatInt(info.Created.UnixMilli(), 10)
		out.NextToken = encodeToken("ListShards", scope, out.Shards[len(out.Shards)-1].ShardId, s.opts.Now())
	}
	return c.reply(&out)
}
