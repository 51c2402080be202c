"""The people who sign in: invitations, groups, disabling (the Cognito user pool)."""
