package streams

// DeleteStream.
//
// Behavior: deletes the stream and every record in it. The server's own
// consumers (Options.Consumers: the analytics processor and the archiver
// read companies and jobs) count as the stream's registered consumers, as
// enhanced fan-out consumers do in AWS: without EnforceConsumerDeletion
// (or with it false) DeleteStream of a stream they read fails with
// ResourceInUseException and AWS's message, naming them. With it true the
// stream goes, and they drop what they hold of it (positions, state) and
// read the stream again from its start once it is created again.
// ListStreamConsumers and the other consumer operations are not served:
// the built-in consumers are not enhanced fan-out consumers a client could
// subscribe as or deregister.
// Differences from AWS: the stream is gone at once (AWS shows DELETING
// for a while). Errors: ResourceNotFoundException, ResourceInUseException.

import (
	"errors"
	"slices"
	"strings"

	"github.com/tenantpulse/tenantpulse/internal/awswire"
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
	if _, err := s.store.Stream(name); errors.Is(err, streamlog.ErrStreamNotFound) {
		return notFound(name)
	}
	if in.EnforceConsumerDeletion == nil || !*in.EnforceConsumerDeletion {
		if names := s.consumersOf(name); len(names) > 0 {
			return awswire.Errorf(awswire.ResourceInUse,
				"DeleteStream can’t delete %s:%s because there are consumers associated with this data stream. To delete %s anyway, set the EnforceConsumerDeletion parameter to true to force the deletion of all the consumers that are associated with it. Its consumers are this server's own (%s): they drop what they hold of the stream and read it again from its start once it is created again.",
				Account, name, name, strings.Join(names, ", "))
		}
	}
	if err := s.store.DeleteStream(name); errors.Is(err, streamlog.ErrStreamNotFound) {
		return notFound(name)
	} else if err != nil {
		return err
	}
	s.log.Warn("stream deleted", "stream", name, "consumers", s.consumersOf(name))
	return c.reply(struct{}{})
}

// consumersOf names the server's own consumers that read stream.
func (s *Service) consumersOf(stream string) []string {
	var names []string
	for _, c := range s.opts.Consumers {
		if slices.Contains(c.Streams, stream) {
			names = append(names, c.Name)
		}
	}
	return names
}
