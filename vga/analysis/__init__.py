"""The analyses: data frames in, figures and data frames out."""
