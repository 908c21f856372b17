"""nbgrader configuration of the course; run nbgrader commands from this folder."""

c = get_config()  # noqa: F821 (nbgrader provides get_config when it loads this file)

c.CourseDirectory.course_id = "rnn-scratch"

# The first grade cell of a notebook grades every part at once in a sandboxed process
# (grader/cell.py), the training check included: allow it more than nbgrader's 30 s per cell.
# A cell that runs out of time earns 0.
c.Execute.timeout = 300
