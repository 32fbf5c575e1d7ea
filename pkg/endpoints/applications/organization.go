package applications

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/platform/httpx"
)

// organizationView is what every member may read about their organization:
// enough for a console to offer only what the plan allows.
type organizationView struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Plan           string `json:"plan"`
	M2MAllowed     bool   `json:"m2m_allowed"`
	M2MMinimumPlan string `json:"m2m_minimum_plan"`
	// This month's M2M tokens against the quota. The count is what the
	// token functions have flushed: it may lag by QUOTA_FLUSH_TOKENS per
	// warm instance, for up to QUOTA_FLUSH_INTERVAL.
	M2MTokenQuota      int64     `json:"m2m_token_quota"`
	M2MTokensThisMonth int64     `json:"m2m_tokens_this_month"`
	M2MQuotaResetsAt   time.Time `json:"m2m_quota_resets_at"`
}

// organization answers GET /organization: the caller's own organization,
// read-only. There is no id in the path, so no other organization can be
// named.
func (h *Handler) organization(w http.ResponseWriter, r *http.Request, c caller) error {
	org, err := h.store.GetOrganization(r.Context(), c.OrgID)
	if errors.Is(err, domain.ErrNotFound) {
		return problem(http.StatusNotFound, "the organization of this token no longer exists")
	}
	if err != nil {
		return fmt.Errorf("load organization: %w", err)
	}
	quotas := h.cfg.TokenQuotas
	if quotas == nil {
		quotas = domain.DefaultTokenQuotas
	}
	counter, resets := domain.TokenUsage(org.ID, h.now())
	used, _, err := h.store.UsageTotal(r.Context(), counter, h.now())
	if err != nil {
		return fmt.Errorf("read token usage: %w", err)
	}
	httpx.WriteJSON(w, http.StatusOK, organizationView{
		ID: org.ID, Name: org.Name, Plan: string(org.Plan),
		M2MAllowed: org.Plan.AllowsM2M(), M2MMinimumPlan: string(domain.MinimumPlanForM2M),
		M2MTokenQuota: quotas.For(org), M2MTokensThisMonth: used, M2MQuotaResetsAt: resets,
	})
	return nil
}
