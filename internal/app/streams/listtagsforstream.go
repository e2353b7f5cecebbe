package streams

// ListTagsForStream.
//
// Behavior: as AWS: tags sorted by key, paged with Limit (default and
// maximum 50, at least 1) and ExclusiveStartTagKey, with HasMoreTags.

import "sort"

type listTagsInput struct {
	StreamName           string `json:"StreamName"`
	StreamARN            string `json:"StreamARN"`
	Limit                *int32 `json:"Limit"`
	ExclusiveStartTagKey string `json:"ExclusiveStartTagKey"`
}

type listTagsOutput struct {
	Tags        []tag `json:"Tags"`
	HasMoreTags bool  `json:"HasMoreTags"`
}

func (s *Service) listTagsForStream(c *call) error {
	var in listTagsInput
	if err := c.decode(&in); err != nil {
		return err
	}
	if err := validateLimit(in.Limit, "limit", 1, 50); err != nil {
		return err
	}
	st, err := s.resolveStream(in.StreamName, in.StreamARN)
	if err != nil {
		return err
	}
	limit := 50
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	tags := st.Info().Tags
	keys := make([]string, 0, len(tags))
	for k := range tags {
		if in.ExclusiveStartTagKey == "" || k > in.ExclusiveStartTagKey {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := listTagsOutput{Tags: []tag{}}
	for _, k := range keys {
		if len(out.Tags) == limit {
			out.HasMoreTags = true
			break
		}
		out.Tags = append(out.Tags, tag{Key: k, Value: tags[k]})
	}
	return c.reply(&out)
}
