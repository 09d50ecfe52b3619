"""The free agents' index by skill decides exactly as `pick_agent` over every agent."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from config.queues import Agent, Queue, RelaxStep
from routing.decide import FreeAgent, FreeAgents, pick_agent

SKILLS = ["billing", "faults", "english", "install"]

skill_sets = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 10), min_size=1)


def agent(skills: dict[str, int]) -> Agent:
    return Agent(name="Agent", endpoint="PJSIP/agent", skills=skills)


@settings(max_examples=300, deadline=None)
@given(population=st.lists(skill_sets, min_size=1, max_size=30),
       ready=st.lists(st.booleans(), min_size=30, max_size=30),
       idle=st.lists(st.sampled_from([10.0, 20.0, 30.0]), min_size=30, max_size=30),
       needs=skill_sets, floor=st.integers(1, 10), waited=st.sampled_from([0.0, 100.0]),
       strategy=st.sampled_from(["best_proficiency", "longest_idle", "round_robin"]))
def test_the_index_picks_whom_pick_agent_picks(
        population: list[dict[str, int]], ready: list[bool], idle: list[float],
        needs: dict[str, int], floor: int, waited: float, strategy: str) -> None:
    """Pick after pick, each chosen agent taken out, as a round does; idle times tie
    often, so the tie-breaks are the same too."""
    agents = {f"a{i}": agent(skills) for i, skills in enumerate(population)}
    queue = Queue(name="Q", skills=needs, strategy=strategy,  # type: ignore[arg-type]
                  relax=[RelaxStep(after=60, min_proficiency=floor)])
    free = FreeAgents(agents)
    every: list[FreeAgent] = []
    for i, agent_id in enumerate(agents):
        if ready[i]:
            free.add(agent_id, idle_since=idle[i])
            every.append(FreeAgent(agent_id, agents[agent_id].skills, idle[i]))
    assert free.could_serve(queue) == (pick_agent(queue, 1e9, every) is not None)
    while (expected := pick_agent(queue, waited, every)) is not None:
        assert free.pick(queue, waited) == expected
        free.remove(expected.agent_id)
        every.remove(expected)
    assert free.pick(queue, waited) is None


def test_adding_removing_and_unknown_agents() -> None:
    agents = {"1001": agent({"billing": 5, "english": 3}), "1002": agent({"billing": 8})}
    free = FreeAgents(agents)
    free.add("1001", 10.0)
    free.add("1002", 20.0)
    free.add("9999", 5.0)  # not in this version
    assert len(free) == 2 and "9999" not in free
    billing = Queue(name="Billing", skills={"billing": 5})
    english = Queue(name="English", skills={"english": 1, "billing": 1})
    assert free.pick(billing, 0).agent_id == "1002"  # type: ignore[union-attr]
    assert [a.agent_id for a in free.candidates(english)] == ["1001"]
    free.add("1001", 30.0)  # ready again later: the newer idle time counts
    assert free.get("1001") == FreeAgent("1001", agents["1001"].skills, 30.0)
    free.remove("1002")
    free.remove("1002")  # already gone: nothing happens
    assert free.pick(billing, 0).agent_id == "1001"  # type: ignore[union-attr]
    free.remove("1001")
    assert not free and not free.could_serve(billing)
    assert free.pick(english, 0) is None


def test_could_serve_follows_agents_coming_and_going() -> None:
    agents = {"1001": agent({"billing": 2}), "1002": agent({"billing": 9, "english": 4}),
              "1003": agent({"faults": 7})}
    billing = Queue(name="Billing", skills={"billing": 5},
                    relax=[RelaxStep(after=60, min_proficiency=2)])
    english = Queue(name="English", skills={"billing": 3, "english": 3})
    free = FreeAgents(agents)
    assert not free.could_serve(billing) and not free.could_serve(english)
    free.add("1003", 0.0)  # other skills: still nobody
    assert not free.could_serve(billing) and not free.could_serve(english)
    free.add("1001", 0.0)  # fits billing once relaxed, never english
    assert free.could_serve(billing) and not free.could_serve(english)
    free.add("1002", 0.0)  # holds both of english's skills
    assert free.could_serve(billing) and free.could_serve(english)
    assert free.could_serve(english)  # asked again, same answer
    free.remove("1002")
    assert free.could_serve(billing) and not free.could_serve(english)
    free.remove("1001")
    assert not free.could_serve(billing)
    free.add("1002", 5.0)
    assert free.could_serve(english) and free.could_serve(billing)


def test_an_answer_is_kept_until_an_agent_of_the_queue_skills_changes() -> None:
    agents = {"1001": agent({"billing": 6}), "1002": agent({"faults": 6}),
              "1003": agent({"billing": 1})}
    billing = Queue(name="Billing", skills={"billing": 5})
    free = FreeAgents(agents)
    free.add("1001", 0.0)
    looked: list[str] = []
    read = free.candidates

    def counting(queue: Queue) -> object:
        looked.append(queue.name)
        return read(queue)

    free.candidates = counting  # type: ignore[method-assign]
    assert free.could_serve(billing) and free.could_serve(billing)
    assert looked == ["Billing"]  # the second answer did not read the agents again
    free.add("1002", 0.0)  # no billing skill: the answer still stands
    assert free.could_serve(billing) and looked == ["Billing"]
    free.add("1003", 0.0)
    assert free.could_serve(billing) and looked == ["Billing", "Billing"]


def test_a_new_queue_object_gets_its_own_answer() -> None:
    free = FreeAgents({"1001": agent({"billing": 6})})
    free.add("1001", 0.0)
    strict = Queue(name="Billing", skills={"billing": 9})
    loose = Queue(name="Billing", skills={"billing": 5})
    assert not free.could_serve(strict)
    assert free.could_serve(loose)
    assert not free.could_serve(strict)


def test_the_best_sum_over_two_skills_is_found_past_a_better_first_skill() -> None:
    """Scanning the holders of one skill best first, the scan may not stop at the first
    that fits: a weaker first skill can come with a much stronger second."""
    agents = {"1001": agent({"billing": 9, "english": 1}),
              "1002": agent({"billing": 8, "english": 9}),
              "1003": agent({"billing": 2, "english": 10})}
    free = FreeAgents(agents)
    for agent_id in agents:
        free.add(agent_id, 10.0)
    queue = Queue(name="Q", skills={"billing": 1, "english": 1})
    assert free.pick(queue, 0).agent_id == "1002"  # type: ignore[union-attr]
