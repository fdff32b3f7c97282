"""Tocsin's outbound and inbound channels.

Outbound, each a `Channel` (see `base`) taking typed messages (`message`) and returning one `SendResult` each:
`outbox.OutboxChannel` (files; the default without credentials), `slack.SlackChannel` (official slack_sdk
WebClient), `email_sendgrid.SendGridSender` (official sendgrid client, 1,000-recipient requests).
Inbound, framework-free: `slack_inbound` (signed interactive payloads and `/tocsin` slash commands) and
`sendgrid_events` (Event Webhook). Block Kit layouts are built by `slack_blocks`.
"""
