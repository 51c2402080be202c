"""The local stack (`crm dev`): moto, provisioning, the Lambda runtime, persistence, the mail simulator."""
