"""The name of every file a run writes to ``results/``, once.

Nodes declare their outputs under these names (:mod:`vga.nodes`) and
chapters read them by the same names (:mod:`vga.present`): a mistyped
name fails where it is written. What each file holds is declared by the
node that writes it (its :class:`~vga.nodes.Output`).
"""

# churned_customers
CHURN_LABELS_CSV = "churn_labels.csv"
CHURN_REASONS_CSV = "churn_reasons.csv"
CHURN_SIGNALS_CSV = "churn_signals.csv"
CHURN_THEMES_CSV = "churn_themes.csv"
CHURNED_CUSTOMERS_JSON = "churned_customers.json"
DECISIONS_CSV = "decisions.csv"

# forecast
FORECAST_CSV = "forecast.csv"
FORECAST_JSON = "forecast.json"
FORECAST_BACKTEST_CSV = "forecast_backtest.csv"

# data_gathering
ACCOUNT_COVERAGE_CSV = "account_coverage.csv"
DATA_GATHERING_JSON = "data_gathering.json"
QUARANTINE_REASONS_CSV = "quarantine_reasons.csv"
SOURCES_CSV = "sources.csv"

# early_warning
EARLY_WARNING_CSV = "early_warning.csv"
EARLY_WARNING_JSON = "early_warning.json"
EARLY_WARNING_DECISIONS_CSV = "early_warning_decisions.csv"

# executive_summary
CHURN_POPULATIONS_CSV = "churn_populations.csv"
FIGURES_CSV = "figures.csv"
SUMMARY_JSON = "summary.json"

# interventions
HEALTH_TRANSITIONS_CSV = "health_transitions.csv"
INTERVENTION_EFFECT_CSV = "intervention_effect.csv"
INTERVENTIONS_CSV = "interventions.csv"
INTERVENTIONS_JSON = "interventions.json"

# journey_map
JOURNEY_MAP_JSON = "journey_map.json"
JOURNEY_STAGES_CSV = "journey_stages.csv"
MILESTONES_CSV = "milestones.csv"

# pattern_slicing
SLICES_CSV = "slices.csv"

# programme_setup
PROGRAMME_JSON = "programme.json"
WORKSTREAMS_CSV = "workstreams.csv"

# quadrant_view
CHAMPION_FEATURES_CSV = "champion_features.csv"
QUADRANT_CHURN_CSV = "quadrant_churn.csv"
QUADRANT_VIEW_JSON = "quadrant_view.json"
QUADRANTS_CSV = "quadrants.csv"
USAGE_TREND_CSV = "usage_trend.csv"
WORKFLOW_ABANDONMENT_CSV = "workflow_abandonment.csv"

# quick_wins
CSM_ACTIONS_CSV = "csm_actions.csv"
CSM_ACTIONS_XLSX = "csm_actions.xlsx"
DO_FIRST_ACCOUNTS_CSV = "do_first_accounts.csv"
QUICK_WINS_CSV = "quick_wins.csv"
QUICK_WINS_JSON = "quick_wins.json"

# renewal_model
MODEL_TERMS_CSV = "model_terms.csv"
MODEL_VALIDATION_JSON = "model_validation.json"
RENEWAL_MODEL_JSON = "renewal_model.json"
RENEWAL_SCORES_CSV = "renewal_scores.csv"

# renewed_customers
ADOPTION_BY_OUTCOME_CSV = "adoption_by_outcome.csv"
BEHAVIOUR_FEATURES_CSV = "behaviour_features.csv"
BEHAVIOURS_CSV = "behaviours.csv"
RENEWED_CUSTOMERS_JSON = "renewed_customers.json"

# retention
COHORT_CSV = "cohort.csv"
RETENTION_JSON = "retention.json"
RETENTION_BY_SLICE_CSV = "retention_by_slice.csv"
RETENTION_TREND_CSV = "retention_trend.csv"

# survival
COX_CSV = "cox.csv"
SURVIVAL_CSV = "survival.csv"
SURVIVAL_JSON = "survival.json"
SURVIVAL_TESTS_CSV = "survival_tests.csv"

# voice_of_customer
SUPPORT_LOAD_CSV = "support_load.csv"
THEMES_CSV = "themes.csv"
VOICE_BY_QUADRANT_CSV = "voice_by_quadrant.csv"
VOICE_OF_CUSTOMER_JSON = "voice_of_customer.json"
VOICE_TREND_CSV = "voice_trend.csv"
