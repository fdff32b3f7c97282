"""Tocsin's HTTP service (`tocsin serve`): the JSON API, Slack's inbound requests, SendGrid's Event
Webhook and mention ingestion. Every route calls the same service functions as the CLI."""
