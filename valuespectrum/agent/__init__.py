"""The feed agent loop and its drivers (direct, browser) and platform adapters. Not built yet."""
