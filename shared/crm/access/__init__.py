"""Who is calling and what they may do: Cognito tokens, API keys, permissions."""
