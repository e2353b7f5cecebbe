package streams

// DeleteStream.
//
// Behavior: deletes the stream and every record in it. EnforceConsumerDeletion
// is accepted and has no effect (there are no registered consumers yet).
// Differences from AWS: the stream is gone at once (AWS shows DELETING for a
// while). Errors: ResourceNotFoundException.

import (
	"errors"

	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

type deleteStreamInput struct {
	StreamName              string `json:"StreamName"`
	StreamARN               string `json:"StreamARN"`
	EnforceConsumerDeletion *bool  `json:"EnforceConsumerDeletion"`
}

func (s *Service) deleteStream(c *call) error {
	var in deleteStreamInput
	if err := c.decode(&in); err != nil {
		return err
	}
	name, err := streamNameFrom(in.StreamName, in.StreamARN)
	if err != nil {
		return err
	}
	if err := s.store.DeleteStream(name); errors.Is(err, streamlog.ErrStreamNotFound) {
		return notFound(name)
	} else if err != nil {
		return err
	}
	return c.reply(struct{}{})
}
