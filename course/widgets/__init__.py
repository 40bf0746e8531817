"""The chapters' interactive widgets: the controls, observers and layout behind the one line a
chapter uses to show a widget. The lesson (the functions a widget calls: a training run, a
drawing, a formula) stays in the chapter and is passed in, so a widget always shows the
student's own code at work."""
