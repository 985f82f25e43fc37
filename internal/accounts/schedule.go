package accounts

import (
	"context"
	"time"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/settings"
)

// scheduleGrace is how late a scheduled run may still start: a server that
// was down at 00:55 does not sync at 09:00 when it comes back.
const scheduleGrace = 10 * time.Minute

// scheduleJob names the schedule's slot claims in the database.
const scheduleJob = "account-sync"

// NextRun is when the schedule next runs after now; zero when the sync is
// off. Hourly runs at the same minute past every hour as the overnight run
// (settings.OvernightMinute, default 55), overnight at 00:MM server time.
func (s *Service) NextRun(now time.Time) time.Time {
	ctx := context.Background()
	schedule := s.settings.Get(ctx, settings.AccountSyncSchedule)
	if schedule == ScheduleOff || s.settings.Get(ctx, settings.AccountSyncSource) == SourceNone {
		return time.Time{}
	}
	slot := lastSlot(now, schedule, s.settings.Int(ctx, settings.OvernightMinute))
	if schedule == ScheduleHourly {
		return slot.Add(time.Hour)
	}
	return slot.AddDate(0, 0, 1)
}

// lastSlot is the latest scheduled time at or before now.
func lastSlot(now time.Time, schedule string, minute int) time.Time {
	if schedule == ScheduleHourly {
		slot := now.Truncate(time.Hour).Add(time.Duration(minute) * time.Minute)
		// Truncate works in UTC; whole hours are the same in every zone
		// but a few with 30- or 45-minute offsets, where this still runs hourly.
		if slot.After(now) {
			slot = slot.Add(-time.Hour)
		}
		return slot
	}
	y, m, d := now.Date()
	slot := time.Date(y, m, d, 0, minute, 0, 0, now.Location())
	if slot.After(now) {
		slot = time.Date(y, m, d-1, 0, minute, 0, 0, now.Location())
	}
	return slot
}

// ScheduleChanged is signalled when the schedule settings are saved, so a
// scheduler waiting for NextRun can wake and ask again.
func (s *Service) ScheduleChanged() <-chan struct{} { return s.scheduled }

func (s *Service) restartSchedule() {
	select {
	case s.scheduled <- struct{}{}:
	default:
	}
}

// RunScheduled runs the sync if a scheduled time has just passed. It never
// deletes. Of several servers sharing the database exactly one runs each
// scheduled time: the first to claim it in the database. It returns the
// report, or nil when nothing was due.
func (s *Service) RunScheduled(ctx context.Context) (*Report, error) {
	st := s.Settings(ctx)
	if st.Schedule == ScheduleOff || st.Source == SourceNone {
		return nil, nil
	}
	now := s.now()
	slot := lastSlot(now, st.Schedule, s.settings.Int(ctx, settings.OvernightMinute))
	if now.Sub(slot) > scheduleGrace {
		return nil, nil
	}
	claimed, err := s.store.ClaimJobSlot(ctx, scheduleJob, slot)
	if err != nil || !claimed {
		return nil, err
	}
	opts := st.Options()
	return s.Run(ctx, core.Scheduler, opts)
}
