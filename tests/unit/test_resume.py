"""Where a caller resumes after their engine died, from what outlived it."""

from __future__ import annotations

from ivr.resume import Resume, ResumeAt, resume_at

MENU_STEPS = ["RECORDING STARTED /rec/c1.wav", "NOTE menu main zh", "GET DATA main 5000 1",
              "NOTE menu self_service en", "GET DATA self_service 5000 1"]


def test_a_caller_in_the_menus_resumes_at_the_last_node_they_reached_in_their_language() -> None:
    assert resume_at("", "", MENU_STEPS) == ResumeAt(Resume.MENU, node="self_service",
                                                     language="en")


def test_a_pin_half_typed_unmutes_the_recording_and_is_asked_again() -> None:
    steps = [*MENU_STEPS, "NOTE menu voucher_pin zh", "RECORDING MUTED"]
    assert resume_at("", "", steps) == ResumeAt(Resume.MENU, node="voucher_pin",
                                                language="zh", muted=True)
    assert not resume_at("", "", [*steps, "RECORDING RESUMED"]).muted


def test_a_waiting_caller_and_one_whose_ring_ended_unheard_go_back_in_line() -> None:
    assert resume_at("", "waiting", MENU_STEPS).how is Resume.WAIT
    assert resume_at("returned", "offered", MENU_STEPS).how is Resume.WAIT


def test_a_caller_who_left_a_queue_for_a_menu_resumes_in_the_menu() -> None:
    assert resume_at("", "gone", MENU_STEPS).how is Resume.MENU


def test_a_caller_back_after_the_conversation_ends_cleanly() -> None:
    assert resume_at("returned", "connected", MENU_STEPS).how is Resume.FINISHED


def test_a_survey_starts_again_about_the_same_call_and_a_feature_code_is_dialled_again() -> None:
    assert resume_at("survey c42", "", ["NOTE menu survey zh"]) == ResumeAt(Resume.SURVEY,
                                                                            about="c42")
    assert resume_at("agent PJSIP/1001 *3", "", []).how is Resume.FEATURE_CODE


def test_nothing_known_starts_at_the_hotlines_start() -> None:
    assert resume_at("", "", []) == ResumeAt(Resume.START)
