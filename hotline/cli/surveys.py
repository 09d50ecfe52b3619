"""`hotline surveys report`: satisfaction by queue, agent and day, with attempt and
contact rates."""

from __future__ import annotations

from typing import Any

from hotline.settings import Settings


def add_surveys_parser(sub: Any) -> None:
    surveys = sub.add_parser("surveys", help="satisfaction callbacks")
    surveys_sub = surveys.add_subparsers(dest="surveys_command", required=True)
    surveys_sub.add_parser("report", help="satisfaction by queue, agent and day; attempt "
                           "and contact rates")


async def surveys_report(settings: Settings) -> int:
    import zoneinfo

    from config.loader import ConfigError, load
    from hotline.runtime.redis_client import connect
    from quality.reports import build, lines
    from quality.survey_jobs import SurveyJobs

    try:
        timezone = zoneinfo.ZoneInfo(load(settings.config_path).calendar.timezone)
    except ConfigError:
        timezone = zoneinfo.ZoneInfo("UTC")
    redis = connect(settings.redis_url)
    try:
        jobs, results = await SurveyJobs(redis, settings.key_prefix).everything()
    finally:
        await redis.aclose()
    for line in lines(build(jobs, results, timezone)):
        print(line)
    return 0
