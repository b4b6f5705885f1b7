// libtailcut's async combinators, all at once.
#pragma once

#include "tailcut/async/as_completed.hpp"
#include "tailcut/async/deadline.hpp"
#include "tailcut/async/error.hpp"
#include "tailcut/async/failure.hpp"
#include "tailcut/async/gather.hpp"
#include "tailcut/async/limiter.hpp"
#include "tailcut/async/outcome.hpp"
#include "tailcut/async/shield.hpp"
#include "tailcut/async/task.hpp"
#include "tailcut/async/task_group.hpp"
#include "tailcut/async/wait.hpp"
