"""The Python code blocks of the spec (CHECKPOINT_MANAGER.md), copied verbatim.

test_spec_examples.py runs them; test_examples_are_the_spec's checks, when the spec is beside the
repository (../shared/spec/), that they are still exactly the spec's. The one block left out is
"Integration with Session Manager", which drives another system.
"""

# fmt: off
# Data Models / Checkpoint
DATA_MODEL_CHECKPOINT = '''\
@dataclass
class Checkpoint:
    checkpoint_id: str                    # Unique checkpoint identifier
    commit_sha: str                       # Git commit SHA
    timestamp: str                        # ISO 8601 timestamp
    description: str                      # Human-readable description
    phase: CheckpointPhase                # Execution phase
    checkpoint_type: CheckpointType       # Type of checkpoint
    commit_message: Optional[str]         # Git commit message
    state_snapshot: Optional[StateSnapshot]  # Session state at checkpoint
    tags: List[str]                       # Git tags
    rollback_used: bool                   # Whether used for rollback
    rollback_count: int                   # Number of rollbacks to this point
'''

# Data Models / StateSnapshot
DATA_MODEL_STATE_SNAPSHOT = '''\
@dataclass
class StateSnapshot:
    tasks_completed: int = 0
    decisions_made: int = 0
    files_modified: int = 0
    files_created: int = 0
    tests_passing: int = 0
    tests_failing: int = 0
'''

# Usage Examples / Basic Checkpoint Creation
BASIC_CHECKPOINT_CREATION = '''\
from checkpoint_manager import CheckpointManager, CheckpointPhase, CheckpointType

manager = CheckpointManager()
session_id = "uuid-string"

# Create checkpoint
checkpoint = manager.create_checkpoint(
    session_id=session_id,
    description="Planning phase completed",
    phase=CheckpointPhase.PLAN,
    checkpoint_type=CheckpointType.PHASE_COMPLETE,
    commit_first=False,
)

print(f"Created checkpoint: {checkpoint.checkpoint_id}")
print(f"Commit SHA: {checkpoint.commit_sha}")
'''

# Usage Examples / Checkpoint with State Snapshot
CHECKPOINT_WITH_STATE_SNAPSHOT = '''\
from checkpoint_manager import StateSnapshot

# Capture session state
state_snapshot = StateSnapshot(
    tasks_completed=15,
    decisions_made=8,
    files_modified=23,
    files_created=12,
    tests_passing=42,
    tests_failing=0,
)

# Create checkpoint with state
checkpoint = manager.create_checkpoint(
    session_id=session_id,
    description="Implementation milestone",
    phase=CheckpointPhase.IMPLEMENT,
    checkpoint_type=CheckpointType.TASK_GROUP_COMPLETE,
    state_snapshot=state_snapshot,
)
'''

# Usage Examples / Pre-Operation Safety Checkpoint
PRE_OPERATION_SAFETY_CHECKPOINT = '''\
# Validate before risky operation
validation = manager.validate_checkpoint_state()

if validation.is_valid:
    # Create safety checkpoint
    safety_cp = manager.create_checkpoint(
        session_id=session_id,
        description="Before database migration",
        phase=CheckpointPhase.IMPLEMENT,
        checkpoint_type=CheckpointType.PRE_RISKY_OPERATION,
    )

    try:
        # Perform risky operation
        perform_migration()
    except Exception as e:
        # Rollback to safety point
        manager.rollback_to_checkpoint(session_id, safety_cp.checkpoint_id)
'''

# Usage Examples / Listing Checkpoints
LISTING_CHECKPOINTS = '''\
# List all checkpoints
checkpoints = manager.list_checkpoints(session_id)

for i, cp in enumerate(checkpoints, 1):
    print(f"{i}. {cp.description}")
    print(f"   Phase: {cp.phase.value}")
    print(f"   Type: {cp.checkpoint_type.value}")
    print(f"   Time: {cp.timestamp}")

# Get summary
summary = manager.get_checkpoint_summary(session_id)
print(f"Total: {summary.total_checkpoints}")
print(f"By type: {summary.checkpoints_by_type}")
'''

# Usage Examples / Rollback Workflow
ROLLBACK_WORKFLOW = '''\
# Create stable checkpoint
stable_cp = manager.create_checkpoint(
    session_id=session_id,
    description="Stable state",
    phase=CheckpointPhase.IMPLEMENT,
    checkpoint_type=CheckpointType.SAFE_STATE,
)

# Make changes
make_changes()

# Something went wrong, rollback
manager.rollback_to_checkpoint(
    session_id=session_id,
    checkpoint_id=stable_cp.checkpoint_id,
    hard_reset=False,  # Use --mixed to preserve working directory
)
'''

# Error Handling
ERROR_HANDLING = '''\
try:
    checkpoint = manager.create_checkpoint(...)
except ValueError as e:
    # Validation failed
    print(f"Cannot create checkpoint: {e}")
except FileNotFoundError as e:
    # Session or checkpoint not found
    print(f"Not found: {e}")
except subprocess.SubprocessError as e:
    # Git command failed
    print(f"Git error: {e}")
'''

# fmt: on

ALL = {
    "DATA_MODEL_CHECKPOINT": DATA_MODEL_CHECKPOINT,
    "DATA_MODEL_STATE_SNAPSHOT": DATA_MODEL_STATE_SNAPSHOT,
    "BASIC_CHECKPOINT_CREATION": BASIC_CHECKPOINT_CREATION,
    "CHECKPOINT_WITH_STATE_SNAPSHOT": CHECKPOINT_WITH_STATE_SNAPSHOT,
    "PRE_OPERATION_SAFETY_CHECKPOINT": PRE_OPERATION_SAFETY_CHECKPOINT,
    "LISTING_CHECKPOINTS": LISTING_CHECKPOINTS,
    "ROLLBACK_WORKFLOW": ROLLBACK_WORKFLOW,
    "ERROR_HANDLING": ERROR_HANDLING,
}
