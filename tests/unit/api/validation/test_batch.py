"""Jobs and CronJobs, and the cron schedule parser behind them."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.api.validation import validate, validate_update
from kybernetes.api.validation.cron import duration_error, schedule_error

from .samples import changed, job, messages, pod_spec, template


def test_a_valid_job_has_no_errors() -> None:
    assert validate("batch", "Job", job()) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            {"template": {**job()["spec"]["template"], "spec": pod_spec()}},
            [
                'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", '
                '"Never"'
            ],
            id="restart always",
        ),
        pytest.param(
            {"parallelism": -1, "completions": -2, "backoffLimit": -3},
            [
                "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
                "spec.completions: Invalid value: -2: must be greater than or equal to 0",
                "spec.backoffLimit: Invalid value: -3: must be greater than or equal to 0",
            ],
            id="counts",
        ),
        pytest.param(
            {"completionMode": "Random"},
            [
                'spec.completionMode: Unsupported value: "Random": supported values: '
                '"NonIndexed", "Indexed"'
            ],
            id="completion mode",
        ),
        pytest.param(
            {"completionMode": "Indexed", "completions": None},
            ["spec.completions: Required value: when completion mode is Indexed"],
            id="indexed needs completions",
        ),
        pytest.param(
            {"backoffLimitPerIndex": 1},
            ["spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode"],
            id="per index limit",
        ),
        pytest.param(
            {"selector": None},
            [
                "spec.selector: Required value",
                "spec.template.metadata.labels: Invalid value: map[string]string{"
                '"batch.kubernetes.io/controller-uid":"0b9f5f3a-3c3e-4a1e-9a3a-1b2c3d4e5f60", '
                '"batch.kubernetes.io/job-name":"pi", '
                '"controller-uid":"0b9f5f3a-3c3e-4a1e-9a3a-1b2c3d4e5f60", "job-name":"pi"}: '
                "`selector` does not match template `labels`",
            ],
            id="selector required",
        ),
        pytest.param(
            {"selector": {"matchLabels": {"app": "other"}}, "manualSelector": True},
            [
                "spec.template.metadata.labels: Invalid value: map[string]string{"
                '"batch.kubernetes.io/controller-uid":"0b9f5f3a-3c3e-4a1e-9a3a-1b2c3d4e5f60", '
                '"batch.kubernetes.io/job-name":"pi", '
                '"controller-uid":"0b9f5f3a-3c3e-4a1e-9a3a-1b2c3d4e5f60", "job-name":"pi"}: '
                "`selector` does not match template `labels`"
            ],
            id="manual selector mismatch",
        ),
        pytest.param(
            {"selector": {"matchLabels": {"app": "other"}}},
            [
                'spec.selector: Invalid value: {"matchLabels":{"app":"other"}}: `selector` not '
                "auto-generated",
                "spec.template.metadata.labels: Invalid value: map[string]string{"
                '"batch.kubernetes.io/controller-uid":"0b9f5f3a-3c3e-4a1e-9a3a-1b2c3d4e5f60", '
                '"batch.kubernetes.io/job-name":"pi", '
                '"controller-uid":"0b9f5f3a-3c3e-4a1e-9a3a-1b2c3d4e5f60", "job-name":"pi"}: '
                "`selector` does not match template `labels`",
            ],
            id="selector not generated",
        ),
        pytest.param(
            {
                "podFailurePolicy": {"rules": [{"action": "FailJob"}]},
                "podReplacementPolicy": "Failed",
            },
            [
                "spec.podFailurePolicy.rules[0]: Invalid value: specifying one of OnExitCodes "
                "and OnPodConditions is required"
            ],
            id="pod failure rule",
        ),
    ],
)
def test_job_rules(spec: dict[str, Any], expected: list[str]) -> None:
    assert messages(validate("batch", "Job", job(**spec))) == expected


def test_generated_labels_are_required() -> None:
    obj = changed(job(), lambda j: j["spec"]["template"]["metadata"]["labels"].pop("job-name"))
    assert messages(validate("batch", "Job", obj)) == [
        "spec.template.metadata.labels[job-name]: Required value: must be 'pi'"
    ]


def test_indexed_job_names_leave_room_for_the_index() -> None:
    obj = job(completionMode="Indexed", completions=10)
    obj["metadata"]["name"] = "a" * 62
    hostname = "a" * 62 + "-9"
    assert f"will not able to create pod with invalid DNS label: {hostname}" in str(
        validate("batch", "Job", obj)[-1]
    )


def test_job_template_and_selector_are_immutable() -> None:
    old = job()
    new = changed(old, lambda j: j["spec"]["template"]["spec"]["containers"][0].update(image="x"))
    errors = messages(validate_update("batch", "Job", new, old))
    assert len(errors) == 1
    assert errors[0].startswith("spec.template: Invalid value: {")
    assert errors[0].endswith("}: field is immutable")
    assert (
        validate_update(
            "batch", "Job", changed(old, lambda j: j["spec"].update(parallelism=3)), old
        )
        == []
    )


def test_suspended_jobs_may_change_scheduling_directives() -> None:
    old = job(suspend=True)
    new = changed(old, lambda j: j["spec"]["template"]["spec"].update(nodeSelector={"a": "b"}))
    assert validate_update("batch", "Job", new, old) == []


def test_indexed_completions_change_with_parallelism() -> None:
    old = job(completionMode="Indexed", completions=2, parallelism=2)
    assert (
        validate_update(
            "batch", "Job", job(completionMode="Indexed", completions=3, parallelism=3), old
        )
        == []
    )
    assert messages(
        validate_update(
            "batch", "Job", job(completionMode="Indexed", completions=3, parallelism=2), old
        )
    ) == [
        "spec.completions: Invalid value: 3: can only be modified in tandem with spec.parallelism"
    ]


def cron_job(**spec: Any) -> dict[str, Any]:
    job_template = {"spec": {"template": template(restartPolicy="OnFailure"), "backoffLimit": 6}}
    return {
        "metadata": {"name": "nightly"},
        "spec": {
            "schedule": "0 3 * * *",
            "concurrencyPolicy": "Allow",
            "suspend": False,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": job_template,
            **spec,
        },
    }


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({}, [], id="valid"),
        pytest.param({"schedule": ""}, ["spec.schedule: Required value"], id="schedule required"),
        pytest.param(
            {"schedule": "0 3 * *"},
            [
                'spec.schedule: Invalid value: "0 3 * *": expected exactly 5 fields, found 4: '
                "[0 3 * *]"
            ],
            id="fields",
        ),
        pytest.param(
            {"schedule": "TZ=UTC 0 3 * * *"},
            [
                'spec.schedule: Invalid value: "TZ=UTC 0 3 * * *": cannot use TZ or CRON_TZ in '
                "schedule, use timeZone field instead"
            ],
            id="tz prefix",
        ),
        pytest.param(
            {"timeZone": "Local"},
            [
                'spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as '
                "defined in https://www.iana.org/time-zones"
            ],
            id="local zone",
        ),
        pytest.param(
            {"timeZone": "../etc"},
            ['spec.timeZone: Invalid value: "../etc": unknown time zone ../etc'],
            id="bad zone",
        ),
        pytest.param(
            {"concurrencyPolicy": "Sometimes"},
            [
                'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: '
                '"Allow", "Forbid", "Replace"'
            ],
            id="concurrency",
        ),
        pytest.param(
            {"startingDeadlineSeconds": -1},
            ["spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0"],
            id="deadline",
        ),
        pytest.param(
            {
                "jobTemplate": {
                    "spec": {
                        "template": template(restartPolicy="OnFailure"),
                        "selector": {"matchLabels": {"a": "b"}},
                    }
                }
            },
            [
                'spec.jobTemplate.spec.selector: Invalid value: {"matchLabels":{"a":"b"}}: '
                "`selector` will be auto-generated"
            ],
            id="job template selector",
        ),
    ],
)
def test_cron_job_rules(spec: dict[str, Any], expected: list[str]) -> None:
    assert messages(validate("batch", "CronJob", cron_job(**spec))) == expected


def test_cron_job_names_leave_room_for_the_job_suffix() -> None:
    obj = cron_job()
    obj["metadata"]["name"] = "n" * 53
    assert messages(validate("batch", "CronJob", obj)) == [
        f'metadata.name: Invalid value: "{"n" * 53}": must be no more than 52 characters'
    ]


def test_cron_job_updates_tolerate_an_existing_tz_prefix() -> None:
    old = cron_job(schedule="TZ=UTC 0 3 * * *")
    assert validate_update("batch", "CronJob", cron_job(schedule="TZ=UTC 0 4 * * *"), old) == []


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("*/5 * * * *", None),
        ("0 0 1,15 * mon-fri", None),
        ("0 0 * JAN,jul sun", None),
        ("5/15 * * * ?", None),
        ("@hourly", None),
        ("@every 1h30m", None),
        ("", "empty spec string"),
        ("* * * * * *", "expected exactly 5 fields, found 6: [* * * * * *]"),
        ("60 * * * *", "end of range (60) above maximum (59): 60"),
        ("0 0 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("0 0 * * 7", "end of range (7) above maximum (6): 7"),
        ("5-2 * * * *", "beginning of range (5) beyond end of range (2): 5-2"),
        ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
        ("*/-1 * * * *", "negative number (-1) not allowed: -1"),
        ("1/2/3 * * * *", "too many slashes: 1/2/3"),
        ("@reboot", "unrecognized descriptor: @reboot"),
        (
            "@every 1d",
            'failed to parse duration @every 1d: time: unknown unit "d" in duration "1d"',
        ),
    ],
)
def test_schedule_parser(schedule: str, expected: str | None) -> None:
    assert schedule_error(schedule) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1h", None),
        ("-1.5m", None),
        ("0", None),
        ("", 'time: invalid duration ""'),
        ("10", 'time: missing unit in duration "10"'),
        (".s", 'time: invalid duration ".s"'),
        ("3x", 'time: unknown unit "x" in duration "3x"'),
    ],
)
def test_go_durations(text: str, expected: str | None) -> None:
    assert duration_error(text) == expected
