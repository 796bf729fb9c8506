"""A Harbor agent for the tests: records what it can see, so a test can check the agent phase."""

from harbor.agents.base import BaseAgent
from harbor.environments.base import BaseEnvironment
from harbor.models.agent.context import AgentContext


class ProbeAgent(BaseAgent):
    @staticmethod
    def name() -> str:
        return "skillspark-probe"

    def version(self) -> str:
        return "1"

    async def setup(self, environment: BaseEnvironment) -> None:
        pass

    async def run(self, instruction: str, environment: BaseEnvironment, context: AgentContext) -> None:
        await environment.exec(
            "for p in /tests /solution; do if [ -e $p ]; then echo \"$p visible\"; else echo \"$p absent\"; fi; done"
            " > /logs/agent/probe.txt"
        )


class PlantingAgent(ProbeAgent):
    """An agent that plants links in /logs and checks whether /logs is a host dir (it must not be)."""

    @staticmethod
    def name() -> str:
        return "skillspark-planter"

    async def run(self, instruction: str, environment: BaseEnvironment, context: AgentContext) -> None:
        await environment.exec(
            "ln -s /etc/passwd /logs/agent/planted-link; ln -s / /logs/agent/planted-root; "
            "ln -s /etc/passwd /logs/verifier/test-stdout.txt; "
            "awk '$2 == \"/logs/agent\"' /proc/self/mounts > /logs/agent/mounts.txt"
        )
