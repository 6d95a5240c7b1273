// C++ target variables: class members through $this, references, inheritance,
// namespaces (for @cast), enum classes, std::string. Prints what the probes should
// read, so the tests compare the probe's values with the program's own.
#include <cstdio>
#include <string>

namespace geo {
enum class Color : short { Red = 1, Green = 2, Blue = 7 };

struct Base {
    int id;
    long weight;
};

class Shape : public Base {
public:
    Shape(int i, const char *n, Color c) : Base{i, 10L * i}, name(n), color(c), scale(i + 0.5) {}
    __attribute__((noinline)) int area(int &factor, const std::string &tag);
    const char *name;
    Color color;
    double scale;
    int dims[3] = {1, 2, 3};
};

__attribute__((noinline)) int Shape::area(int &factor, const std::string &tag)
{
    factor += 1;
    return id * factor + (int)tag.size() + dims[2];
}
}  // namespace geo

__attribute__((noinline)) int use_ref(int &r, const geo::Shape &s, geo::Color c)
{
    return r + s.id + (int)c;
}

int main()
{
    geo::Shape sq(4, "square", geo::Color::Blue);
    int f = 3;
    std::string tag("hello");
    int a = sq.area(f, tag);
    int u = use_ref(f, sq, geo::Color::Green);
    printf("area=%d f=%d use=%d id=%d weight=%ld name=%s color=%d\n", a, f, u, sq.id, sq.weight, sq.name,
           (int)sq.color);
    return 0;
}
