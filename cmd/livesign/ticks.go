package main

import "time"

// tickStep is one spacing of the time axis: a fixed duration (hours, days,
// weeks, aligned on the Unix epoch in UTC; weeks on Mondays) or a number of
// calendar months (a year is 12), and the layout of its labels.
type tickStep struct {
	d      time.Duration
	months int
	layout string
}

// tickSteps are the spacings the axis picks from, finest first.
var tickSteps = []tickStep{
	{d: time.Hour, layout: "01-02 15:04"},
	{d: 2 * time.Hour, layout: "01-02 15:04"},
	{d: 3 * time.Hour, layout: "01-02 15:04"},
	{d: 6 * time.Hour, layout: "01-02 15:04"},
	{d: 12 * time.Hour, layout: "01-02 15:04"},
	{d: 24 * time.Hour, layout: "2006-01-02"},
	{d: 2 * 24 * time.Hour, layout: "2006-01-02"},
	{d: 7 * 24 * time.Hour, layout: "2006-01-02"},
	{d: 14 * 24 * time.Hour, layout: "2006-01-02"},
	{months: 1, layout: "2006-01"},
	{months: 2, layout: "2006-01"},
	{months: 3, layout: "2006-01"},
	{months: 6, layout: "2006-01"},
	{months: 12, layout: "2006"},
	{months: 24, layout: "2006"},
	{months: 60, layout: "2006"},
	{months: 120, layout: "2006"},
}

// monday is a Monday 00:00 UTC: weeks are counted from it.
var monday = time.Date(1970, 1, 5, 0, 0, 0, 0, time.UTC)

// timeTicks returns the ticks of the axis from from to to (UTC): the
// finest spacing of tickSteps that gives at most maxTicks, at round
// instants (whole hours, midnights, Mondays, firsts of months, Januaries).
func timeTicks(from, to time.Time, maxTicks int) []tick {
	from, to = from.UTC(), to.UTC()
	if !to.After(from) {
		return nil
	}
	maxTicks = max(maxTicks, 2)
	for i, s := range tickSteps {
		ts := s.ticks(from, to)
		if len(ts) <= maxTicks || i == len(tickSteps)-1 {
			return ts
		}
	}
	return nil
}

// ticks returns the instants of s in [from, to], labelled.
func (s tickStep) ticks(from, to time.Time) []tick {
	var out []tick
	if s.months == 0 {
		base := time.Unix(0, 0).UTC()
		if s.d%(7*24*time.Hour) == 0 {
			base = monday
		}
		n := from.Sub(base) / s.d
		t := base.Add(n * s.d)
		for ; !t.After(to); t = t.Add(s.d) {
			if !t.Before(from) {
				out = append(out, tick{At: t, Label: t.Format(s.layout)})
			}
			if len(out) > 10000 {
				break
			}
		}
		return out
	}
	m := (from.Year()*12 + int(from.Month()) - 1) / s.months * s.months
	for ; ; m += s.months {
		t := time.Date(m/12, time.Month(m%12+1), 1, 0, 0, 0, 0, time.UTC)
		if t.After(to) || len(out) > 10000 {
			break
		}
		if !t.Before(from) {
			out = append(out, tick{At: t, Label: t.Format(s.layout)})
		}
	}
	return out
}
