package streams

// ListStreams.
//
// Behavior: lists stream names in lexicographic order with StreamSummaries,
// HasMoreStreams and NextToken; Limit defaults to 100 and is capped at 100
// per page as AWS does (values up to 10000 are accepted);
// ExclusiveStartStreamName starts after a name. NextToken cannot be combined
// with ExclusiveStartStreamName and expires after 300 seconds.

import (
	"github.com/tenantpulse/tenantpulse/internal/awswire"
)

type listStreamsInput struct {
	Limit                    *int32 `json:"Limit"`
	ExclusiveStartStreamName string `json:"ExclusiveStartStreamName"`
	NextToken                string `json:"NextToken"`
}

type streamSummary struct {
	StreamName              string             `json:"StreamName"`
	StreamARN               string             `json:"StreamARN"`
	StreamStatus            string             `json:"StreamStatus"`
	StreamModeDetails       streamModeDetails  `json:"StreamModeDetails"`
	StreamCreationTimestamp *awswire.Timestamp `json:"StreamCreationTimestamp"`
}

type listStreamsOutput struct {
	StreamNames     []string        `json:"StreamNames"`
	HasMoreStreams  bool            `json:"HasMoreStreams"`
	NextToken       string          `json:"NextToken,omitempty"`
	StreamSummaries []streamSummary `json:"StreamSummaries"`
}

func (s *Service) listStreams(c *call) error {
	var in listStreamsInput
	if err := c.decode(&in); err != nil {
		return err
	}
	if err := validateLimit(in.Limit, "limit", 1, 10000); err != nil {
		return err
	}
	after := in.ExclusiveStartStreamName
	if in.NextToken != "" {
		if after != "" {
			return awswire.Errorf(awswire.InvalidArgument, "NextToken and ExclusiveStartStreamName cannot be provided together.")
		}
		var err error
		if _, after, err = decodeToken(in.NextToken, "ListStreams", s.opts.Now()); err != nil {
			return err
		}
	}
	limit := 100
	if in.Limit != nil && int(*in.Limit) < limit {
		limit = int(*in.Limit)
	}
	out := listStreamsOutput{StreamNames: []string{}, StreamSummaries: []streamSummary{}}
	for _, st := range s.store.Streams() {
		if st.Name() <= after && after != "" {
			continue
		}
		if len(out.StreamNames) == limit {
			out.HasMoreStreams = true
			break
		}
		info := st.Info()
		out.StreamNames = append(out.StreamNames, info.Name)
		out.StreamSummaries = append(out.StreamSummaries, streamSummary{
			StreamName: info.Name, StreamARN: streamARN(c.region, info.Name), StreamStatus: "ACTIVE",
			StreamModeDetails: streamModeDetails{StreamMode: info.Mode}, StreamCreationTimestamp: ts(info.Created),
		})
	}
	if out.HasMoreStreams {
		out.NextToken = encodeToken("ListStreams", "", out.StreamNames[len(out.StreamNames)-1], s.opts.Now())
	}
	return c.reply(&out)
}
