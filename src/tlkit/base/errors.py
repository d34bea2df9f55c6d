"""Exceptions the CLI turns into one clear line and a non-zero exit."""


class KitError(Exception):
    """A problem with the user's input or environment, stated so that it can be fixed."""


class RecipeError(KitError):
    """A recipe (or data table) that does not validate; the message names file, key and problem."""

    def __init__(self, path: object, key: str, problem: str) -> None:
        self.path, self.key, self.problem = path, key, problem
        super().__init__(f"{path}: [{key}] {problem}")


class FetchError(KitError):
    """A source that could not be fetched or did not match its pin."""


class PatchError(KitError):
    """A patch of the series that is malformed or does not apply."""


class BuildError(KitError):
    """A build step that failed; the message names the step and the log."""
