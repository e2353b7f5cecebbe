package streams

// IncreaseStreamRetentionPeriod.
//
// Behavior: as AWS: RetentionPeriodHours must be between 24 and 8760 and not
// below the current period (InvalidArgumentException); the new period takes
// effect at once and durably. Records already deleted are not brought back.

import (
	"github.com/tenantpulse/tenantpulse/internal/awswire"
)

type retentionInput struct {
	StreamName           string `json:"StreamName"`
	StreamARN            string `json:"StreamARN"`
	RetentionPeriodHours *int32 `json:"RetentionPeriodHours"`
}

const (
	minRetentionHours = 24
	maxRetentionHours = 8760
)

func (s *Service) increaseStreamRetentionPeriod(c *call) error {
	return s.changeRetention(c, true)
}

// changeRetention implements both retention operations.
func (s *Service) changeRetention(c *call, increase bool) error {
	var in retentionInput
	if err := c.decode(&in); err != nil {
		return err
	}
	if in.RetentionPeriodHours == nil {
		return validationf("null", "retentionPeriodHours", "not be null")
	}
	h := int(*in.RetentionPeriodHours)
	if h < 1 || h > 8760 {
		return validationf(h, "retentionPeriodHours", "have value between 1 and 8760")
	}
	st, err := s.resolveStream(in.StreamName, in.StreamARN)
	if err != nil {
		return err
	}
	err = st.Update(func(cur *int, _ map[string]string) error {
		if h < minRetentionHours {
			return awswire.Errorf(awswire.InvalidArgument, "Minimum allowed retention period is %d hours. Requested retention period (%d hours) is too short.", minRetentionHours, h)
		}
		if increase && h < *cur {
			return awswire.Errorf(awswire.InvalidArgument,
				"Requested retention period (%d hours) for stream %s can not be shorter than existing retention period (%d hours). Use DecreaseRetentionPeriod API.", h, st.Name(), *cur)
		}
		if !increase && h > *cur {
			return awswire.Errorf(awswire.InvalidArgument,
				"Requested retention period (%d hours) for stream %s can not be longer than existing retention period (%d hours). Use IncreaseRetentionPeriod API.", h, st.Name(), *cur)
		}
		*cur = h
		return nil
	})
	if err != nil {
		return err
	}
	return c.reply(struct{}{})
}
