package sim

import "strconv"

// Source is the CloudEvents source of every simulated event.
const Source = "urn:tenantpulse:simulator"

// appendEvent appends p as one compact CloudEvents 1.0 JSON object. Every
// string it writes comes from the word lists or is generated, so none needs
// escaping.
func (g *Generator) appendEvent(b []byte, p *pendingEvent) []byte {
	b = append(b, g.prefix...)
	b = strconv.AppendInt(b, g.ordinal, 10)
	b = append(b, `","source":"`+Source+`","type":"`...)
	b = append(b, EventTypes[p.kind]...)
	b = append(b, `","time":"`...)
	b = appendTime(b, p.at)
	b = append(b, `","tenantid":"`...)
	b = append(b, p.t.id...)
	b = append(b, `","data":{`...)
	switch p.kind {
	case evTenantCreated:
		b = appendProfile(b, &p.p, updSentiment|updPlan|updFee|updEmployees|updRevenue, true)
	case evTenantUpdated:
		b = appendProfile(b, &p.p, p.aux, false)
	case evTenantDeleted:
		b = append(b, `"reason":"`...)
		b = append(b, p.reason...)
		b = append(b, '"')
	case evUserAdded, evUserDeleted:
		b = appendUser(b, p.user)
	case evUserLogin, evUserLogoff, evUserTimeout:
		b = appendUser(b, p.user)
		b = append(b, `,"sessionId":"s-`...)
		b = appendPadded(b, int64(p.num), 6)
		b = append(b, '"')
	case evJobSubmitted:
		b = appendJob(b, p.num)
		b = append(b, ',')
		b = appendUser(b, p.user)
		b = append(b, `,"dataSize":`...)
		b = strconv.AppendInt(b, p.n, 10)
	case evJobTerminated:
		b = appendJob(b, p.num)
		if p.aux == 1 {
			b = append(b, `,"status":"failed"`...)
		} else {
			b = append(b, `,"status":"succeeded"`...)
		}
		b = append(b, `,"durationMs":`...)
		b = strconv.AppendInt(b, p.n, 10)
	case evJobCancelled:
		b = appendJob(b, p.num)
		b = append(b, ',')
		b = appendUser(b, p.user)
	}
	return append(b, "}}"...)
}

// appendProfile appends the fields of mask; with name, also name and industry.
func appendProfile(b []byte, p *profile, mask uint8, name bool) []byte {
	sep := false
	field := func(k string) {
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, `":`...)
	}
	if name {
		field("name")
		b = append(b, '"')
		b = append(b, p.name...)
		b = append(b, '"')
		field("industry")
		b = append(b, '"')
		b = append(b, industries[p.industry]...)
		b = append(b, '"')
	}
	if mask&updSentiment != 0 {
		field("sentiment")
		b = append(b, '"')
		b = append(b, sentiments[p.sentiment]...)
		b = append(b, '"')
	}
	if mask&updRevenue != 0 {
		field("revenue")
		b = strconv.AppendFloat(b, p.revenue, 'f', -1, 64)
	}
	if mask&updEmployees != 0 {
		field("employees")
		b = strconv.AppendInt(b, p.employees, 10)
	}
	if mask&updFee != 0 {
		field("monthlyFee")
		b = strconv.AppendFloat(b, p.monthlyFee, 'f', -1, 64)
	}
	if mask&updPlan != 0 {
		field("plan")
		b = append(b, '"')
		b = append(b, plans[p.plan]...)
		b = append(b, '"')
	}
	return b
}

func appendUser(b []byte, u int32) []byte {
	b = append(b, `"userId":"u-`...)
	b = appendPadded(b, int64(u), 4)
	return append(b, '"')
}

func appendJob(b []byte, j int32) []byte {
	b = append(b, `"jobId":"j-`...)
	b = appendPadded(b, int64(j), 6)
	return append(b, '"')
}

// appendPadded appends v in decimal with at least width digits.
func appendPadded(b []byte, v int64, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for v > 0 || len(tmp)-i < width {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, tmp[i:]...)
}

// appendTime appends unix-nano t as RFC 3339 UTC with exactly three
// fraction digits, e.g. 2026-11-25T10:00:00.123Z.
func appendTime(b []byte, t int64) []byte {
	days := floorDiv(t, day)
	rem := t - days*day
	y, m, d := civil(days)
	b = appendPadded(b, y, 4)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	secs := rem / 1e9
	b = append2(b, secs/3600)
	b = append(b, ':')
	b = append2(b, secs/60%60)
	b = append(b, ':')
	b = append2(b, secs%60)
	b = append(b, '.')
	ms := rem / 1e6 % 1000
	b = append(b, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
	return b
}

func append2(b []byte, v int64) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's civil_from_days).
func civil(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// FormatTime formats unix-nano t as the events and the truth do.
func FormatTime(t int64) string { return string(appendTime(nil, t)) }
