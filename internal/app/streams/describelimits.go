package streams

// DescribeLimits.
//
// Behavior: reports the account's shard limit (500 by default, as in most
// AWS regions; --shard-limit changes it), the open shards across all
// streams, and the on-demand stream count and limit (50).

type describeLimitsOutput struct {
	ShardLimit               int `json:"ShardLimit"`
	OpenShardCount           int `json:"OpenShardCount"`
	OnDemandStreamCount      int `json:"OnDemandStreamCount"`
	OnDemandStreamCountLimit int `json:"OnDemandStreamCountLimit"`
}

func (s *Service) describeLimits(c *call) error {
	var in struct{}
	if err := c.decode(&in); err != nil {
		return err
	}
	open, onDemand := s.openShards()
	return c.reply(&describeLimitsOutput{
		ShardLimit: s.opts.AccountShardLimit, OpenShardCount: open,
		OnDemandStreamCount: onDemand, OnDemandStreamCountLimit: s.opts.OnDemandStreamLimit,
	})
}
