"""The jobs panel's parts: advice in words for failed jobs, and the table model."""
