"""proactive: teach language models to gather information proactively.

A notebook-first reproduction of Huang et al. (2025), "Teaching Language Models To Gather
Information Proactively": mask fully specified tasks, simulate a user who holds the hidden facts,
reward questions by the new information they elicit, train with RFT over whole dialogues and GRPO
(``proactive.methods``), and evaluate.
"""

from .errors import ProactiveError
from .masking import PartialTask, mask, split_tasks
from .tasks import Fact, Task, load_tasks

__all__ = ["Fact", "PartialTask", "ProactiveError", "Task", "load_tasks", "mask", "split_tasks"]
__version__ = "0.1.0"
