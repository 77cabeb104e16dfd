namespace Placeholder;
