package domain

import "time"

// TokenQuotas is the monthly M2M token quota of each plan: how many
// client_credentials tokens an organization may have signed in a calendar
// month (UTC). A plan without M2M has none.
type TokenQuotas map[Plan]int64

// DefaultTokenQuotas apply to the plans that TOKEN_QUOTAS does not name.
var DefaultTokenQuotas = TokenQuotas{
	PlanFree:                0,
	PlanTeam:                0,
	PlanEnterprise:          0,
	PlanEnterpriseLarge:     1_000_000,
	PlanEnterpriseUnlimited: 100_000_000,
}

// For is o's monthly quota: the operator's override, or its plan's.
func (q TokenQuotas) For(o Organization) int64 {
	if o.TokenQuota > 0 {
		return o.TokenQuota
	}
	return q[o.Plan]
}

// TokenUsage names the counter of orgID's M2M tokens in the month of now
// (UTC), and returns when that month ends (when the quota starts again).
func TokenUsage(orgID string, now time.Time) (counter string, monthEnd time.Time) {
	now = now.UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	return "m2m-tokens/" + orgID + "/" + start.Format("2006-01"), start.AddDate(0, 1, 0)
}
