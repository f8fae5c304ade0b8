"""Test-only settings for a worker that holds each identification long enough to be killed mid-task."""

from plantsite.settings.test import *  # noqa: F403

RECOGNITION_TEST_DELAY_BEFORE_PREDICT = 60
