package streams

// DecreaseStreamRetentionPeriod.
//
// Behavior: as AWS: RetentionPeriodHours must be at least 24 and not above
// the current period (InvalidArgumentException). Records older than the
// new period stop being returned at once; their segments are deleted by the
// next retention pass (within a minute).

func (s *Service) decreaseStreamRetentionPeriod(c *call) error {
	return s.changeRetention(c, false)
}
