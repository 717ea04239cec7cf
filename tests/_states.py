"""The optimizer states of a fitted model, one per member, whatever its ensemble size."""


def optimizer_states(model):
    """``model.optimizer_state_`` as a tuple: one state per member of an ensemble (the
    default MLPRegressor has two), a tuple of one for a single network."""
    states = model.optimizer_state_
    return states if isinstance(states, tuple) else (states,)


def buffers(model):
    """Every buffer of every member's optimizer state, in order."""
    return [getattr(state, name) for state in optimizer_states(model)
            for name in state.buffer_names]


def step_counts(model):
    """Each member's optimizer step count, in order."""
    return [state.t for state in optimizer_states(model)]
